#include "bench/stats.hpp"

#include <algorithm>
#include <cmath>

#include "bench/bootstrap.hpp"

namespace mga {

Stats compute_stats(std::vector<double> values) {
  Stats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  s.median = median_of_sorted(values);
  s.min = values.front();
  s.max = values.back();
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / double(n);
  if (n > 1) {
    double squares = 0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(squares / double(n - 1));  // sample standard deviation
  }
  s.cv = s.mean > 0 ? s.stddev / s.mean : 0;
  return s;
}

Stats PolicyRuns::train_seconds() const {
  std::vector<double> values;
  for (const auto& m : repetitions) values.push_back(m.train_seconds);
  return compute_stats(values);
}

const Measurement& PolicyRuns::median_run() const {
  std::vector<const Measurement*> sorted;
  for (const auto& m : repetitions) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(),
            [](auto* a, auto* b) { return a->train_seconds < b->train_seconds; });
  return *sorted[(sorted.size() - 1) / 2];
}

int PolicyRuns::noisy_repetitions() const {
  return int(std::count_if(repetitions.begin(), repetitions.end(),
                           [](const Measurement& m) { return !m.noise.flags.empty(); }));
}

std::string cell_name(const PolicyRuns& runs) {
  std::string name = runs.allocator;
  if (runs.malloc_axis) name += " under " + runs.median_run().malloc;
  if (runs.thread_axis) {
    name += " x" + std::to_string(runs.threads) + " " + std::string(to_string(runs.release));
  }
  return name;
}

namespace {

bool same_cell_but(const PolicyRuns& a, const PolicyRuns& b) {
  return a.allocator == b.allocator && a.median_run().malloc == b.median_run().malloc;
}

double median_seconds(const PolicyRuns& runs) {
  return runs.train_seconds().median;
}

}  // namespace

ThreadFigures thread_figures(const std::vector<PolicyRuns>& all, std::size_t index) {
  const PolicyRuns& cell = all[index];
  ThreadFigures figures;
  const double seconds = median_seconds(cell);
  const int steps = cell.median_run().steps;
  if (seconds > 0) figures.steps_per_second = double(cell.threads) * steps / seconds;
  for (const PolicyRuns& other : all) {
    if (!same_cell_but(cell, other) || median_seconds(other) <= 0 || seconds <= 0) continue;
    if (other.threads == 1 && other.release == cell.release)
      figures.scaling_efficiency = median_seconds(other) / seconds;
    if (cell.release == ReleaseMode::background && other.release == ReleaseMode::inline_release &&
        other.threads == cell.threads)
      figures.background_gain = median_seconds(other) / seconds;
  }
  return figures;
}

}  // namespace mga
