#include "core/seed.hpp"

#include <algorithm>

namespace mga {

std::optional<Seed> Seed::parse(std::string_view text) {
  // As Python's int(text): surrounding whitespace, a sign, and digits with
  // single underscores between them ("1_000").
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  Seed seed;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    seed.negative_ = text[0] == '-';
    text.remove_prefix(1);
  }
  std::string digits;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c != '_' || i == 0 || i + 1 == text.size() || text[i + 1] == '_') {
      return std::nullopt;
    }
  }
  if (digits.empty() || digits.size() > kMaxDigits) return std::nullopt;
  // words = words * 10 + digit, nine digits at a time.
  for (std::size_t at = 0; at < digits.size(); at += 9) {
    const std::string_view chunk = std::string_view(digits).substr(at, 9);
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
  const std::size_t first_digit = std::min(digits.find_first_not_of('0'), digits.size() - 1);
  const std::string canonical = digits.substr(first_digit);
  seed.negative_ = seed.negative_ && canonical != "0";
  seed.decimal_ = (seed.negative_ ? "-" : "") + canonical;
  return seed;
}

std::optional<Seed> Seed::plus(std::uint32_t offset) const {
  // On the decimal digits: magnitude + offset, or for a negative n,
  // -(magnitude - offset) when the magnitude is at least the offset, else
  // offset - magnitude (which is then below 2^32).
  std::string digits = decimal_.substr(negative() ? 1 : 0);
  const bool magnitude_at_least_offset =
      digits.size() > 10 || std::stoull(digits) >= std::uint64_t(offset);
  std::string sign;
  if (!negative()) {
    std::uint64_t carry = offset;
    for (std::size_t i = digits.size(); i-- > 0 && carry != 0;) {
      const std::uint64_t sum = std::uint64_t(digits[i] - '0') + carry;
      digits[i] = char('0' + sum % 10);
      carry = sum / 10;
    }
    if (carry != 0) digits.insert(0, std::to_string(carry));
  } else if (magnitude_at_least_offset) {
    sign = "-";
    std::uint64_t borrow = offset;
    for (std::size_t i = digits.size(); i-- > 0 && borrow != 0;) {
      int digit = (digits[i] - '0') - int(borrow % 10);
      borrow /= 10;
      if (digit < 0) {
        digit += 10;
        ++borrow;
      }
      digits[i] = char('0' + digit);
    }
  } else {
    digits = std::to_string(std::uint64_t(offset) - std::stoull(digits));
  }
  return parse(sign + digits);  // drops leading zeros and "-0", checks the length
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
