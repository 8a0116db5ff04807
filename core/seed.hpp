// Seed: an integer of any size, as Python's random.seed(n) takes it.
//
// CPython seeds MT19937 with abs(n), cut into little-endian 32-bit words, all
// of them fed to init_by_array (n = 0 gives the one word 0). So -1 is the seed
// 1, and 2^64 is its own seed (the words 0, 0, 1), not 2^64 - 1.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mga {

class Seed {
 public:
  // Python refuses integer literals (and int(str)) longer than this
  // (sys.get_int_max_str_digits()); so does Seed::parse.
  static constexpr std::size_t kMaxDigits = 4300;

  template <std::integral T>
  Seed(T value) : negative_(value < 0) {  // implicit: `config.seed = 5` reads as Python's
    unsigned long long magnitude = negative_ ? 0ULL - static_cast<unsigned long long>(value)
                                             : static_cast<unsigned long long>(value);
    decimal_ = (negative_ ? "-" : "") + std::to_string(magnitude);
    for (; magnitude != 0; magnitude >>= 32)
      words_.push_back(static_cast<std::uint32_t>(magnitude));
  }

  // A decimal integer as Python's int(text) reads one ("-1", "+7", "007",
  // " 5 ", "1_000"); nullopt for anything else, or more than kMaxDigits digits.
  static std::optional<Seed> parse(std::string_view text);

  bool negative() const { return negative_ && !words_.empty(); }
  // abs(n) as init_by_array's key: little-endian 32-bit words, at least one.
  std::vector<std::uint32_t> key() const;
  // The value as a canonical decimal integer (no '+', no leading zeros): what
  // the JSON records and workers are given.
  const std::string& decimal() const { return decimal_; }
  // This integer plus `offset`, as Python's n + offset (bench_train --threads
  // gives replica i the seed n + i); nullopt past kMaxDigits digits.
  std::optional<Seed> plus(std::uint32_t offset) const;
  // microgpt.ts's mulberry32(seed) keeps `seed | 0`, the value modulo 2^32.
  // JavaScript numbers hold integers exactly up to 2^53 - 1; beyond that
  // microgpt.ts could not have been given the seed, so: nullopt.
  std::optional<std::uint32_t> javascript_int32() const;

 private:
  Seed() = default;
  bool negative_ = false;
  std::vector<std::uint32_t> words_;  // abs(n), little-endian, no high zero words
  std::string decimal_;
};

}  // namespace mga
