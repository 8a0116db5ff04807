// The 95% percentile-bootstrap interval of a median, computed exactly as
// scripts/mga_report/stats.py computes it, so bench_train (--repeat auto) and
// the report agree to the last bit: for the same values and label,
//   stats.value_interval(label, stats.repetitions_sample(values))
// gives the same point, low and high: the same generator (core/rng.hpp's
// PythonRandom, seeded with the first 8 bytes of sha256(label), big-endian),
// the same draws and the same percentiles.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/rng.hpp"

namespace mga {

inline constexpr int kBootstrapResamples = 2000;  // stats.RESAMPLES
inline constexpr double kBootstrapLevel = 0.95;   // stats.LEVEL

// stats.generator(label): Python's generator (core/rng.hpp) seeded from sha256(label).
PythonRandom label_generator(std::string_view label);

// stats.median: the middle value, or the mean of the two middle ones.
double median_of(std::vector<double> values);
// The same of values already sorted (compute_stats sorts them for min and max too).
double median_of_sorted(const std::vector<double>& sorted);

struct MedianInterval {
  double median = 0;
  double low = 0, high = 0;
  // The half-width relative to the median: (high - low) / 2 / median.
  double relative_half_width() const;
};

// The median of `values` and its interval, resampling the values with
// replacement kBootstrapResamples times from label_generator(label). Null for
// fewer than 2 values (stats.py: "one repetition", no interval).
std::optional<MedianInterval> median_interval(const std::vector<double>& values,
                                              std::string_view label);

}  // namespace mga
