// --seed (issue 12, defect 5): any integer, as Python's random.seed takes it.
// CPython uses abs(n) and feeds all of its 32-bit words to init_by_array, so
// -1 is the seed 1 and 2^64 is its own seed; bench_train used to wrap -1 to
// 2^64 - 1 and saturate everything above. Checked against CPython itself.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "tests/reliability/bench_cli.hpp"

namespace {

using namespace mga::test;

const std::string kPython = "/usr/bin/python3";

bool have_python() {
  return access(kPython.c_str(), X_OK) == 0;
}

const std::vector<std::string> kSeeds = {
    "0", "-0", "007", "+5", "-1", "1", "4294967295", "4294967296", "-4294967296",
    "18446744073709551615", "18446744073709551616", "-18446744073709551616", "18446744073709551617",
    "-10000000000000000000000000000000000000000",
    // 3^300: 144 digits, 15 key words
    "136891479058588375991326027382088315966463695625337436471480190078368997177499076593800206"
    "155688941388250484440597994042813512732765695774566001"};

// random.random() after random.seed(n) for every seed, as CPython prints them.
TEST(Seed, PythonRandomMatchesCPythonAtLargeAndNegativeSeeds) {
  if (!have_python()) GTEST_SKIP() << "no " << kPython;
  TempDir dir;
  const std::string script = dir.write("seeds.py", R"(import random, sys
for text in sys.argv[1:]:
    random.seed(int(text))
    print(repr(random.random()), repr(random.random()))
)");
  std::vector<std::string> argv = {kPython, script};
  argv.insert(argv.end(), kSeeds.begin(), kSeeds.end());
  auto r = run_process(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  for (const auto& text : kSeeds) {
    SCOPED_TRACE("seed " + text);
    std::string first, second;
    ASSERT_TRUE(lines >> first >> second);
    const auto seed = mga::Seed::parse(text);
    ASSERT_TRUE(seed.has_value());
    mga::PythonRandom rng(*seed);
    EXPECT_EQ(rng.random(), std::strtod(first.c_str(), nullptr));
    EXPECT_EQ(rng.random(), std::strtod(second.c_str(), nullptr));
  }
}

TEST(Seed, CanonicalDecimalIsRecorded) {
  EXPECT_EQ(mga::Seed::parse("-0")->decimal(), "0");
  EXPECT_EQ(mga::Seed::parse("+007")->decimal(), "7");
  EXPECT_EQ(mga::Seed::parse(" -1_000 ")->decimal(), "-1000");
  EXPECT_EQ(mga::Seed::parse("-18446744073709551616")->decimal(), "-18446744073709551616");
  EXPECT_EQ(mga::Seed(-5).decimal(), "-5");
  EXPECT_EQ(mga::Seed::parse("18446744073709551616")->key(), (std::vector<std::uint32_t>{0, 0, 1}));
  EXPECT_EQ(mga::Seed::parse("0")->key(), (std::vector<std::uint32_t>{0}));
}

std::string trained(const std::string& data, const std::vector<std::string>& extra) {
  auto r = bench(small_run(data, extra));
  expect_success(r);
  return microgpt_output(r);
}

TEST(Seed, NegativeSeedIsItsAbsoluteValueAndLargeSeedsAreTheirOwn) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  auto with_seed = [&](const std::string& seed) {
    return trained(data, {"--seed=" + seed, "--samples", "3"});
  };
  EXPECT_EQ(with_seed("-1"), with_seed("1"));
  EXPECT_EQ(with_seed("+5"), with_seed("005"));
  const std::string max64 = with_seed("18446744073709551615");
  const std::string two64 = with_seed("18446744073709551616");
  const std::string above = with_seed("18446744073709551617");
  EXPECT_NE(two64, max64) << "2^64 must not saturate to 2^64 - 1";
  EXPECT_NE(above, two64);
  EXPECT_EQ(with_seed("-18446744073709551616"), two64);
  EXPECT_NE(with_seed("0"), two64) << "2^64 must not wrap to 0";
}

TEST(Seed, OnlyNonIntegersAreRefused) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  for (const std::string& bad :
       std::vector<std::string>{"1.5", "1e3", "0x10", "abc", "--", "-", "+", "- 5", "1__000", "_1",
                                "1_", "", std::string(4301, '9')}) {
    SCOPED_TRACE(bad.substr(0, 20));
    expect_refused(bench(small_run(data, {"--seed=" + bad})), kBadInput, "--seed");
  }
  expect_success(bench(small_run(data, {"--seed=" + std::string(4300, '9')})));
  // What Python's int() reads is an integer too.
  EXPECT_EQ(trained(data, {"--seed= 1_000 "}), trained(data, {"--seed=1000"}));
}

// The JSON records the seed as given, a JSON integer of any size that Python reads exactly.
TEST(Seed, JsonRecordsTheSeedAsGiven) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::string big = "-340282366920938463463374607431768211457";  // -(2^128 + 1)
  const std::string json = dir / "out.json";
  auto run =
      bench(small_run(data, {"--seed=" + big, "--json", json, "--allocator", "all", "--quiet"}));
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(slurp(json).find("\"seed\": " + big + ","), std::string::npos);
  if (!have_python()) return;
  auto r = run_process({kPython, "-c",
                        "import json, sys; print(json.load(open(sys.argv[1]))['config']['seed'] "
                        "== int(sys.argv[2]))",
                        json, big});
  EXPECT_EQ(r.out, "True\n") << r.err;
}

// microgpt.ts's mulberry32(seed) keeps `seed | 0`: -1 and 2^32 - 1 are the same
// seed there; integers JavaScript cannot hold exactly are refused in one line.
TEST(Seed, Mulberry32TakesWhatMicrogptTsCouldBeGiven) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  auto ts = [&](const std::string& seed) {
    return trained(data, {"--rng", "mulberry32", "--seed=" + seed});
  };
  EXPECT_EQ(ts("-1"), ts("4294967295"));
  EXPECT_EQ(ts("4294967338"), ts("42"));                // 2^32 + 42
  EXPECT_EQ(ts("9007199254740991"), ts("4294967295"));  // 2^53 - 1, the largest safe integer
  expect_refused(bench(small_run(data, {"--rng", "mulberry32", "--seed=9007199254740992"})),
                 kBadInput, "2^53");
}

// Byte for byte what microgpt.py prints with a seed of three 32-bit words
// (negative, so abs() matters too): the reference program, run for real.
TEST(Seed, LargeNegativeSeedIsByteIdenticalToMicrogptPy) {
  const std::filesystem::path program = std::string(MGA_SHARED_DIR) + "/programs/microgpt.py";
  const std::filesystem::path names = std::string(MGA_SHARED_DIR) + "/data/names.txt";
  if (!have_python() || !std::filesystem::exists(program) || !std::filesystem::exists(names))
    GTEST_SKIP() << "needs " << kPython << ", " << program << " and " << names;
  const std::string seed = "-18446744073709551617";  // -(2^64 + 1)
  std::string source = slurp(program);
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = source.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    source.replace(at, from.size(), to);
  };
  replace("random.seed(42)", "random.seed(" + seed + ")");
  replace("num_steps = 1000", "num_steps = 3");
  replace("for sample_idx in range(20):", "for sample_idx in range(3):");
  TempDir dir;
  dir.write("microgpt.py", source);
  std::filesystem::copy_file(names, dir / "input.txt");
  auto python = run_process({kPython, "microgpt.py"},
                            {.timeout_seconds = 120, .working_directory = dir.path().string()});
  ASSERT_EQ(python.exit_code, 0) << python.err;
  const std::string ours =
      trained(dir / "input.txt", {"--seed=" + seed, "--steps", "3", "--samples", "3"});
  EXPECT_EQ(ours, python.out);
}

}  // namespace
