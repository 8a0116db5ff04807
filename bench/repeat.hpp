// --repeat auto: rounds over every cell until every cell's median training
// time has a 95% interval within the target, or the time budget is spent, or
// the maximum of rounds is reached. The interval is the percentile bootstrap
// of the median (bench/bootstrap.hpp), as scripts/mga_report/stats.py
// computes it, with the label interval_label() gives.
//
// The first kAutoMinRounds rounds always run. After each later round: done if
// every cell is within the target ("converged"), else if the rounds reached
// kAutoMaxRounds ("max"), else if the time the rounds took so far, plus their
// mean, would pass the budget ("budget": the next round is not started).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/bootstrap.hpp"
#include "bench/stats.hpp"

namespace mga {

inline constexpr int kAutoMinRounds = 5;
inline constexpr int kAutoMaxRounds = 50;
inline constexpr double kDefaultRepeatTargetPercent = 5;  // ±5% of the median
inline constexpr double kDefaultRepeatBudget = 600.0;     // seconds

// How the rounds of a run went: the JSON config's repeat fields.
struct Rounds {
  int count = 0;           // rounds run
  bool automatic = false;  // --repeat auto
  std::string outcome;     // with automatic: "converged", "budget" or "max"
  std::string text;        // with automatic: one sentence saying how it ended
};

// The label of a cell's interval: "repeat|MALLOC|ALLOCATOR|THREADS|RELEASE",
// with the JSON run's malloc, allocator, threads and release.
std::string interval_label(const PolicyRuns& runs);

// What --repeat auto decides after a round.
struct AutoRepeatStep {
  std::optional<Rounds> end;  // null: start another round
  std::string progress;       // one line about the widest interval (from round kAutoMinRounds on)
};
// `target`: the relative half-width (0.05 for ±5%).
AutoRepeatStep auto_repeat_step(const std::vector<PolicyRuns>& cells, int rounds,
                                double elapsed_seconds, double target, double budget_seconds);

// A fraction as a percentage for messages: 0.05 is "5%", 0.025 "2.5%".
std::string percent_text(double fraction);

}  // namespace mga
