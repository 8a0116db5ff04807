#include "core/seed.hpp"

#include <algorithm>

namespace mga {

std::optional<Seed> Seed::parse(std::string_view text) {
  Seed seed;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    seed.negative_ = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > kMaxDigits ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  // words = words * 10 + digit, nine digits at a time.
  for (std::size_t at = 0; at < text.size(); at += 9) {
    const std::string_view chunk = text.substr(at, 9);
    std::uint64_t scale = 1, carry = 0;
    for (char c : chunk) {
      scale *= 10;
      carry = carry * 10 + std::uint64_t(c - '0');
    }
    for (auto& word : seed.words_) {
      const std::uint64_t product = std::uint64_t(word) * scale + carry;
      word = static_cast<std::uint32_t>(product);
      carry = product >> 32;
    }
    if (carry != 0) seed.words_.push_back(static_cast<std::uint32_t>(carry));
  }
  const std::size_t first_digit = std::min(text.find_first_not_of('0'), text.size() - 1);
  const std::string_view digits = text.substr(first_digit);
  seed.negative_ = seed.negative_ && digits != "0";
  seed.decimal_ = (seed.negative_ ? "-" : "") + std::string(digits);
  return seed;
}

std::vector<std::uint32_t> Seed::key() const {
  return words_.empty() ? std::vector<std::uint32_t>{0} : words_;
}

std::optional<std::uint32_t> Seed::javascript_int32() const {
  const std::uint64_t max_safe = (1ULL << 53) - 1;
  if (words_.size() > 2) return std::nullopt;
  const std::uint64_t magnitude =
      words_.empty() ? 0 : words_[0] | (words_.size() > 1 ? std::uint64_t(words_[1]) << 32 : 0);
  if (magnitude > max_safe) return std::nullopt;
  const auto low = static_cast<std::uint32_t>(magnitude);
  return negative_ ? 0U - low : low;  // two's complement, as `seed | 0` then `>>> 0`
}

}  // namespace mga
