#include "bench/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/sha256.hpp"

namespace mga {

namespace {

// stats.percentile: linear interpolation between the closest ranks of a sorted list.
double percentile(const std::vector<double>& ordered, double fraction) {
  const double position = fraction * double(ordered.size() - 1);
  const double lower = std::floor(position);
  const std::size_t low = std::size_t(lower), high = std::min(low + 1, ordered.size() - 1);
  return ordered[low] + (ordered[high] - ordered[low]) * (position - lower);
}

}  // namespace

PythonRandom label_generator(std::string_view label) {
  const std::string digest = sha256_hex(label);
  return PythonRandom(*Seed::parse(std::to_string(std::stoull(digest.substr(0, 16), nullptr, 16))));
}

double median_of_sorted(const std::vector<double>& sorted) {
  const std::size_t n = sorted.size();
  return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return median_of_sorted(values);
}

double MedianInterval::relative_half_width() const {
  return (high - low) / 2 / median;
}

std::optional<MedianInterval> median_interval(const std::vector<double>& values,
                                              std::string_view label) {
  const std::size_t n = values.size();
  if (n < 2) return std::nullopt;
  PythonRandom rng = label_generator(label);
  std::vector<double> replicates, drawn(n);
  replicates.reserve(kBootstrapResamples);
  for (int r = 0; r < kBootstrapResamples; ++r) {
    for (double& value : drawn)  // stats.draw_index
      value = values[std::min(n - 1, std::size_t(rng.random() * double(n)))];
    replicates.push_back(median_of(drawn));
  }
  std::sort(replicates.begin(), replicates.end());
  const double tail = (1 - kBootstrapLevel) / 2;
  return MedianInterval{median_of(values), percentile(replicates, tail),
                        percentile(replicates, 1 - tail)};
}

}  // namespace mga
