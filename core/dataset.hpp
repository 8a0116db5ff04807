// The training documents, read the way microgpt.py reads input.txt:
//   docs = [l.strip() for l in open(path).read().strip().split('\n') if l.strip()]
// Text is UTF-8 and tokens are Unicode code points, sorted, with BOS last.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mga {

// A dataset that cannot be used; what() is a one-line message for the user.
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Dataset {
  std::vector<std::vector<std::uint32_t>> docs;  // token ids, in file order
  std::vector<std::uint32_t> uchars;             // code point of each token id
  int bos() const { return int(uchars.size()); }
  int vocab_size() const { return int(uchars.size()) + 1; }
  std::string decode(const std::vector<std::uint32_t>& tokens) const;  // UTF-8
};

inline constexpr std::uint64_t kMaxDatasetBytes = 1ULL << 30;
inline constexpr std::string_view kDatasetUrl =
    "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt";
inline constexpr std::string_view kDatasetSha256 =
    "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d";
inline constexpr std::string_view kDefaultDatasetPath = "data/names.txt";

Dataset parse_dataset(std::string_view text);   // throws DatasetError
Dataset load_dataset(const std::string& path);  // throws DatasetError

// The path to train on: `explicit_path` when given, else data/names.txt,
// downloaded (atomically, sha256-checked) when missing. Throws DatasetError.
std::string resolve_dataset(const std::string& explicit_path);

// Downloads kDatasetUrl to `path` with curl; `path` appears only if the whole
// file arrived and its sha256 is kDatasetSha256. Throws DatasetError.
void download_dataset(const std::string& path, std::string_view url = kDatasetUrl,
                      std::string_view sha256 = kDatasetSha256);

}  // namespace mga
