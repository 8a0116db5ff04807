// Issue 21, items 3 and 5: every integer option reads its text by one rule,
// Python's int() (decimal: "010" is ten, never octal eight; "0x3", "1e1" and
// "5.0" are "not an integer"), and --worker-timeout takes no nan.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/numbers.hpp"
#include "tests/reliability/bench_cli.hpp"

namespace {

using namespace mga::test;

const std::vector<std::string> kIntegerOptions = {"--steps",   "--n-embd",     "--n-head",
                                                  "--n-layer", "--block-size", "--samples",
                                                  "--repeat",  "--threads",    "--seed"};

// The value the JSON's config records for `key` ("steps": 10,).
std::string config_value(const std::string& json, const std::string& key) {
  const std::string field = "\"" + key + "\": ";
  const auto at = json.find(field);
  if (at == std::string::npos) return "(missing)";
  const auto begin = at + field.size();
  return json.substr(begin, json.find_first_of(",\n}", begin) - begin);
}

// `--n-embd 064 --n-head 004` trained n_embd 52, `--steps 010` ran 8 steps.
TEST(IntegerOptions, LeadingZerosAreDecimal) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::string json = dir / "out.json";
  auto r = bench(small_run(
      data, {"--steps", "010", "--n-embd", "016", "--n-head", "004", "--n-layer", "010",
             "--block-size", "010", "--samples", "010", "--seed", "010", "--json", json}));
  expect_success(r);
  const std::string written = slurp(json);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"steps", "10"},      {"n_embd", "16"},  {"n_head", "4"}, {"n_layer", "10"},
      {"block_size", "10"}, {"samples", "10"}, {"seed", "10"}};
  for (const auto& [key, value] : expected) EXPECT_EQ(config_value(written, key), value) << key;
  EXPECT_NE(r.out.find("step   10 /   10"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sample 10:"), std::string::npos) << r.out;
}

// Hexadecimal was read by some options (--steps 0x3 ran 3 steps); an exponent
// or a fraction was "not in range".
TEST(IntegerOptions, OnlyDecimalIntegersAreIntegers) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  for (const auto& option : kIntegerOptions) {
    for (const std::string text : {"0x3", "1e1", "5.0", "0b1", "three"}) {
      SCOPED_TRACE(option + " '" + text + "'");
      expect_refused(bench(small_run(data, {option + "=" + text})), kBadInput,
                     option + ": not an integer");
    }
    expect_refused(bench(small_run(data, {option + "="})), kBadInput, option);
  }
  // An integer that is out of range says so, not "not an integer".
  expect_refused(bench(small_run(data, {"--steps", "0"})), kBadInput, "0 is not in range 1 to");
  expect_refused(bench(small_run(data, {"--n-layer", "99999999999999999999"})), kBadInput,
                 "is not in range 1 to 256");
}

// The rule itself, for the options the tests above do not run to the end.
TEST(IntegerOptions, OneRule) {
  for (const std::string text : {"010", "10", "+10", " 10 ", "1_0"})
    EXPECT_EQ(mga::parse_integer(text, 0, 100), 10) << text;
  EXPECT_EQ(mga::parse_integer("-0", -5, 5), 0);
  for (const std::string text : {"0x3", "1e1", "5.0", "010.", "1__0", "_1", "", "-", "0o7"})
    EXPECT_FALSE(mga::parse_integer(text, -100, 100)) << text;
  std::string why;
  EXPECT_FALSE(mga::parse_integer("1e1", 1, 5, &why));
  EXPECT_EQ(why, "not an integer: '1e1'");
  EXPECT_FALSE(mga::parse_integer("06", 1, 5, &why));
  EXPECT_EQ(why, "6 is not in range 1 to 5");
}

// `--worker-timeout nan` turned the limit off: a hung worker was never killed.
TEST(IntegerOptions, WorkerTimeoutTakesNoNan) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  for (const std::string text : {"nan", "NaN", "-nan", "inf", "-1", "0x10", "1e10", "", "1s"}) {
    SCOPED_TRACE(text);
    expect_refused(bench(small_run(data, {"--worker-timeout=" + text, "--repeat", "2"})), kBadInput,
                   "--worker-timeout");
  }
  expect_success(bench(small_run(data, {"--worker-timeout", "1e3", "--repeat", "2", "--quiet"})));
}

}  // namespace
