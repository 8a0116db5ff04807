// --repeat auto (issue 23, item 6; bench/repeat.hpp): the interval of a
// median is the report's to the last bit (scripts/mga_report/stats.py, run
// here), the rule that ends the rounds on made-up cells, and end to end the
// outcomes converged and budget, the JSON's fields and the refusals.
#include "bench/repeat.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/reliability/bench_cli.hpp"
#include "tests/reliability/json_values.hpp"

namespace {

using namespace mga::test;

const std::string kPython = "/usr/bin/python3";

TEST(RepeatAuto, TheIntervalIsTheReportsBitForBit) {
  if (!std::filesystem::exists(kPython)) GTEST_SKIP() << kPython << " is not installed";
  const std::vector<std::pair<std::vector<double>, std::string>> cases = {
      {{1.02, 0.98, 1.10, 1.01, 0.97, 1.5, 1.03}, "repeat|glibc|a|1|inline"},
      {{0.5, 0.25}, "x"},
      {{3.25, 3.5, 3.0, 2.75, 3.125, 3.0625}, "repeat|mine|b|2|background"},
      {{2e-3, 2.1e-3, 1.9e-3, 2.05e-3, 5e-3}, "ünïcode label"},
  };
  for (const auto& [values, label] : cases) {
    SCOPED_TRACE(label);
    std::string list;
    for (double v : values) list += (list.empty() ? "" : ",") + std::to_string(v);
    std::ostringstream program;
    program << "from mga_report import stats\n"
            << "i = stats.value_interval("
            << "'" << label << "', stats.repetitions_sample([" << list << "]))\n"
            << "print(repr(i.point), repr(i.low), repr(i.high))\n";
    const auto r =
        run_process({kPython, "-c", program.str()},
                    {.environment = {"PYTHONPATH=" + std::string(MGA_SOURCE_DIR) + "/scripts"}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<double> parsed;
    for (double v : values) parsed.push_back(std::stod(std::to_string(v)));
    const auto interval = mga::median_interval(parsed, label);
    ASSERT_TRUE(interval.has_value());
    std::istringstream words(r.out);
    std::string point, low, high;
    words >> point >> low >> high;
    EXPECT_EQ(interval->median, std::strtod(point.c_str(), nullptr)) << r.out;
    EXPECT_EQ(interval->low, std::strtod(low.c_str(), nullptr)) << r.out;
    EXPECT_EQ(interval->high, std::strtod(high.c_str(), nullptr)) << r.out;
  }
  EXPECT_FALSE(mga::median_interval({1.0}, "one").has_value()) << "no interval of one value";
}

// A cell whose repetitions took `seconds`.
mga::PolicyRuns cell(const std::string& name, const std::vector<double>& seconds) {
  mga::PolicyRuns runs;
  runs.allocator = name;
  for (double s : seconds) {
    mga::Measurement m;
    m.train_seconds = s;
    m.malloc = "glibc";
    runs.repetitions.push_back(m);
  }
  return runs;
}

TEST(RepeatAuto, RoundsEndConvergedAtTheMaximumOrOnTheBudget) {
  const std::vector<mga::PolicyRuns> tight = {cell("a", {1.0, 1.001, 0.999, 1.0005, 0.9995}),
                                              cell("b", {2.0, 2.001, 1.999, 2.0, 2.0})};
  const std::vector<mga::PolicyRuns> wide = {tight[0], cell("b", {1.0, 2.0, 1.5, 1.2, 1.8})};
  EXPECT_FALSE(mga::auto_repeat_step(tight, mga::kAutoMinRounds - 1, 1e9, 0.05, 1).end)
      << "the first rounds always run";
  const auto converged = mga::auto_repeat_step(tight, 5, 1e9, 0.05, 1).end;
  ASSERT_TRUE(converged);
  EXPECT_EQ(converged->outcome, "converged");
  EXPECT_EQ(converged->count, 5);
  EXPECT_EQ(converged->text.rfind(
                "every cell's median is within ±5% (95% interval) after 5 rounds (the widest: ", 0),
            0U)
      << converged->text;
  const auto go_on = mga::auto_repeat_step(wide, 5, 10, 0.05, 600);
  EXPECT_FALSE(go_on.end) << "10 s + 2 s per round is within 600 s";
  EXPECT_NE(go_on.progress.find("the widest interval is b's"), std::string::npos) << go_on.progress;
  const auto budget = mga::auto_repeat_step(wide, 5, 100, 0.05, 110).end;
  ASSERT_TRUE(budget) << "100 s + 20 s per round would pass 110 s";
  EXPECT_EQ(budget->outcome, "budget");
  EXPECT_EQ(budget->text.rfind("the 110 s budget was spent after 5 rounds: b ±", 0), 0U)
      << budget->text;
  EXPECT_NE(budget->text.find("still wider than ±5%"), std::string::npos) << budget->text;
  const auto max = mga::auto_repeat_step(wide, mga::kAutoMaxRounds, 0, 0.05, 600).end;
  ASSERT_TRUE(max);
  EXPECT_EQ(max->outcome, "max");
  EXPECT_EQ(max->text.rfind("the maximum of 50 rounds was reached: b ±", 0), 0U) << max->text;
}

class RepeatAutoRuns : public ::testing::Test {
 protected:
  ProcessResult run(std::vector<std::string> extra) {
    extra.insert(extra.end(), {"--samples", "0", "--quiet", "--json", json_});
    return bench(small_run(data_, extra), {.timeout_seconds = 120});
  }
  std::string config(const std::string& key) {
    const auto values = json_values(slurp(json_), key);
    return values.size() == 1 ? unquoted(values[0]) : "(" + std::to_string(values.size()) + ")";
  }
  TempDir dir_;
  std::string data_ = dir_.write("names.txt", kNames);
  std::string json_ = dir_ / "out.json";
};

// A loose target is met after the first rounds; long enough steps that a
// busy machine rarely makes one repetition 3 times the others.
TEST_F(RepeatAutoRuns, ConvergedOnALooseTarget) {
  const auto r = run({"--steps", "30", "--repeat", "auto", "--repeat-target", "100"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(config("repeat_mode"), "auto");
  EXPECT_EQ(config("repeat_outcome"), "converged");
  EXPECT_EQ(config("repeat"), "5");
  EXPECT_EQ(config("repeat_min"), "5");
  EXPECT_EQ(config("repeat_max"), "50");
  EXPECT_EQ(config("repeat_target"), "1");
  EXPECT_EQ(config("repeat_budget_seconds"), "600");
  EXPECT_EQ(json_values(slurp(json_), "noise").size(), 5U) << "5 repetitions";
  EXPECT_EQ(config("repeat_outcome_text").rfind("every cell's median is within ±100% ", 0), 0U);
  EXPECT_NE(r.out.find("\nrepeat auto (converged): every cell's median is within ±100% (95% "
                       "interval) after 5 rounds"),
            std::string::npos)
      << r.out;
}

// A target no run meets and a budget the first rounds spend.
TEST_F(RepeatAutoRuns, BudgetSpent) {
  const auto r = run(
      {"--steps", "1", "--repeat", "auto", "--repeat-target", "0.001", "--repeat-budget", "0.001"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(config("repeat_outcome"), "budget");
  EXPECT_EQ(config("repeat"), "5");
  EXPECT_EQ(config("repeat_outcome_text").rfind("the 0.001 s budget was spent after 5 rounds: ", 0),
            0U)
      << config("repeat_outcome_text");
  EXPECT_NE(r.out.find("\nrepeat auto (budget): the 0.001 s budget was spent"), std::string::npos)
      << r.out;
}

TEST_F(RepeatAutoRuns, FixedRoundsAreSaidToo) {
  ASSERT_EQ(run({"--repeat", "2"}).exit_code, 0);
  EXPECT_EQ(config("repeat"), "2");
  EXPECT_EQ(config("repeat_mode"), "fixed");
  EXPECT_EQ(config("repeat_outcome"), "(0)");
}

TEST_F(RepeatAutoRuns, BadValuesAreRefusedInOneLine) {
  expect_refused(run({"--repeat", "auto", "--repeat-target", "0"}), kBadInput,
                 "--repeat-target: not a number above 0 to 100: '0'");
  expect_refused(run({"--repeat", "3", "--repeat-budget", "60"}), kBadInput,
                 "--repeat-budget: applies to --repeat auto only");
  expect_refused(run({"--repeat", "sometimes"}), kBadInput, "(or 'auto')");
  EXPECT_FALSE(std::filesystem::exists(json_));
}

}  // namespace
