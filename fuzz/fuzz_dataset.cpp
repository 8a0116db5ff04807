// libFuzzer target for parse_dataset: arbitrary bytes must either parse into a
// well-formed Dataset or throw DatasetError. Anything else (another exception,
// a crash, a sanitizer report, a broken invariant) is a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/dataset.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool ascii_space(std::uint32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(bytes), size);
  mga::Dataset data;
  try {
    data = mga::parse_dataset(text);
  } catch (const mga::DatasetError& e) {
    check(std::string_view(e.what()).find('\n') == std::string_view::npos);  // one-line message
    return 0;
  }
  check(!data.docs.empty());
  check(!data.uchars.empty());
  check(data.vocab_size() == int(data.uchars.size()) + 1);
  check(std::adjacent_find(data.uchars.begin(), data.uchars.end(),
                           [](auto a, auto b) { return a >= b; }) == data.uchars.end());
  check(data.uchars.back() <= 0x10ffff);
  for (std::uint32_t c : data.uchars)
    check(c != '\n' && c != '\r' && !(c >= 0xd800 && c <= 0xdfff));
  std::vector<bool> used(data.uchars.size(), false);
  for (const auto& doc : data.docs) {
    check(!doc.empty());
    for (std::uint32_t t : doc) {
      check(t < data.uchars.size());
      used[t] = true;
    }
    check(!ascii_space(data.uchars[doc.front()]) && !ascii_space(data.uchars[doc.back()]));
    // Strict UTF-8 has one encoding per code point, so a document decodes back
    // to exactly the bytes it was read from.
    check(text.find(data.decode(doc)) != std::string_view::npos);
  }
  check(std::all_of(used.begin(), used.end(), [](bool u) { return u; }));  // no unused token
  return 0;
}
