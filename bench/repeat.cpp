#include "bench/repeat.hpp"

#include <cstdio>

namespace mga {

std::string interval_label(const PolicyRuns& runs) {
  return "repeat|" + runs.median_run().malloc + "|" + runs.allocator + "|" +
         std::to_string(runs.threads) + "|" + std::string(to_string(runs.release));
}

std::string percent_text(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%g%%", 100 * fraction);
  return text;
}

namespace {

std::string width_text(double relative_half_width) {
  char text[32];
  std::snprintf(text, sizeof text, "±%.1f%%", 100 * relative_half_width);
  return text;
}

std::string rounds_text(int rounds) {
  return std::to_string(rounds) + (rounds == 1 ? " round" : " rounds");
}

}  // namespace

AutoRepeatStep auto_repeat_step(const std::vector<PolicyRuns>& cells, int rounds,
                                double elapsed_seconds, double target, double budget_seconds) {
  AutoRepeatStep step;
  if (rounds < kAutoMinRounds) return step;
  // Each cell's relative half-width; the widest, and those wider than the target.
  double widest = 0;
  std::string widest_cell, too_wide;
  for (const PolicyRuns& runs : cells) {
    std::vector<double> seconds;
    for (const Measurement& m : runs.repetitions) seconds.push_back(m.train_seconds);
    const double width = median_interval(seconds, interval_label(runs))->relative_half_width();
    if (widest_cell.empty() || width > widest) widest = width, widest_cell = cell_name(runs);
    if (width > target)
      too_wide += (too_wide.empty() ? "" : ", ") + cell_name(runs) + " " + width_text(width);
  }
  const std::string within = "within ±" + percent_text(target) + " (95% interval)";
  step.progress = "after " + rounds_text(rounds) + ": the widest interval is " + widest_cell +
                  "'s, " + width_text(widest) + "; the target is ±" + percent_text(target);
  Rounds end;
  end.count = rounds;
  end.automatic = true;
  if (too_wide.empty()) {
    end.outcome = "converged";
    end.text = "every cell's median is " + within + " after " + rounds_text(rounds) +
               " (the widest: " + widest_cell + ", " + width_text(widest) + ")";
  } else if (rounds >= kAutoMaxRounds) {
    end.outcome = "max";
    end.text = "the maximum of " + rounds_text(kAutoMaxRounds) + " was reached: " + too_wide +
               " still wider than ±" + percent_text(target);
  } else if (elapsed_seconds + elapsed_seconds / rounds > budget_seconds) {
    char budget[32];
    std::snprintf(budget, sizeof budget, "%g s", budget_seconds);
    end.outcome = "budget";
    end.text = "the " + std::string(budget) + " budget was spent after " + rounds_text(rounds) +
               ": " + too_wide + " still wider than ±" + percent_text(target);
  } else {
    return step;
  }
  step.end = end;
  return step;
}

}  // namespace mga
