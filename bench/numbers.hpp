// The numbers bench_train's options take, one rule each. Every integer option
// (--steps, --n-embd, --threads, --seed, ...) reads its text as Python's int()
// does, with Seed::parse (core/seed.hpp): decimal digits, a sign, surrounding
// spaces and single underscores between digits ("1_000"). Leading zeros are
// decimal ("010" is ten, not octal eight); "0x3", "1e1" and "5.0" are not
// integers. --worker-timeout, --repeat-budget and --repeat-target are read
// by parse_decimal.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/seed.hpp"

namespace mga {

// An integer option's value: `text` read by the one rule above and within
// [min, max]. On failure `why` (if given) gets the one-line reason.
inline std::optional<long long> parse_integer(std::string_view text, long long min, long long max,
                                              std::string* why = nullptr) {
  auto fail = [&](const std::string& reason) -> std::optional<long long> {
    if (why != nullptr) *why = reason;
    return std::nullopt;
  };
  auto shown = [](std::string_view s) {  // a 4300-digit number makes no readable message
    return s.size() > 40 ? std::string(s.substr(0, 30)) + "..." : std::string(s);
  };
  const std::optional<Seed> integer = Seed::parse(text);
  if (!integer) return fail("not an integer: '" + shown(text) + "'");
  const std::string& decimal = integer->decimal();
  long long value = 0;
  const auto [end, error] = std::from_chars(decimal.data(), decimal.data() + decimal.size(), value);
  if (error != std::errc() || end != decimal.data() + decimal.size() || value < min ||
      value > max) {
    return fail(shown(decimal) + " is not in range " + std::to_string(min) + " to " +
                std::to_string(max));
  }
  return value;
}

// A number within [min, max]: decimal digits with an optional fraction and
// exponent ("90", "1.5", "2e3"). Not nan, inf or hexadecimal.
inline std::optional<double> parse_decimal(std::string_view text, double min, double max) {
  const std::string copy(text);
  if (copy.empty() || copy.find_first_not_of("0123456789.eE+-") != std::string::npos)
    return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value) || value < min || value > max)
    return std::nullopt;
  return value;
}

// The shortest text that parse_decimal reads back as `value`.
inline std::string shortest_decimal(double value) {
  char buffer[64];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

// A duration in seconds within [0, max], by parse_decimal's rule.
inline std::optional<double> parse_seconds(std::string_view text, double max) {
  return parse_decimal(text, 0, max);
}

}  // namespace mga
