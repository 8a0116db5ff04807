// The loader reads text the way microgpt.py does.
#include <gtest/gtest.h>

#include "core/dataset.hpp"
#include "core/sha256.hpp"

namespace mga {
namespace {

std::vector<std::string> names(const Dataset& data) {
  std::vector<std::string> out;
  for (const auto& doc : data.docs) out.push_back(data.decode(doc));
  return out;
}

TEST(Dataset, StripsLinesAndSkipsBlankOnes) {
  Dataset data = parse_dataset("  emma \n\n\t\nolivia\r\nava\rmia\n");
  EXPECT_EQ(names(data), (std::vector<std::string>{"emma", "olivia", "ava", "mia"}));
  EXPECT_EQ(data.vocab_size(), 8);  // a e i l m o v, then BOS
}

TEST(Dataset, TokensAreSortedCodePointsWithBosLast) {
  Dataset data = parse_dataset("ba\nc\xc3\xa9\n");  // "ba", "cé"
  EXPECT_EQ(data.uchars, (std::vector<std::uint32_t>{'a', 'b', 'c', 0xe9}));
  EXPECT_EQ(data.bos(), 4);
  EXPECT_EQ(std::vector<std::uint32_t>(data.docs[0].begin(), data.docs[0].end()),
            (std::vector<std::uint32_t>{1, 0}));
  EXPECT_EQ(names(data)[1], "c\xc3\xa9");
}

TEST(Dataset, RejectsEmptyAndInvalidInput) {
  EXPECT_THROW(parse_dataset(""), DatasetError);
  EXPECT_THROW(parse_dataset(" \n\r\n\t"), DatasetError);
  EXPECT_THROW(parse_dataset("ok\n\xff\n"), DatasetError);
  EXPECT_THROW(parse_dataset("\xc0\xaf"), DatasetError);      // overlong '/'
  EXPECT_THROW(parse_dataset("\xed\xa0\x80"), DatasetError);  // surrogate
  EXPECT_THROW(parse_dataset("a\xe2\x82"), DatasetError);     // truncated
  EXPECT_THROW(load_dataset("/nonexistent/names.txt"), DatasetError);
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string(1000, 'a')),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

}  // namespace
}  // namespace mga
