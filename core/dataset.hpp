// The training documents, read the way microgpt.py reads input.txt:
//   docs = [l.strip() for l in open(path).read().strip().split('\n') if l.strip()]
// Text is UTF-8 and tokens are Unicode code points, sorted, with BOS last.
#pragma once

#include <cstdint>
#include <iterator>
#include <span>
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

// The documents as token ids, packed in one array (4 bytes a character) with
// one end offset per document (4 bytes): a loaded file takes at most 4 times
// its size, since every character takes at least a byte and every document a
// character and a newline.
class Documents {
 public:
  using Doc = std::span<const std::uint32_t>;

  std::size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  Doc operator[](std::size_t i) const {
    const std::uint32_t begin = i == 0 ? 0 : ends_[i - 1];
    return {tokens_.data() + begin, ends_[i] - begin};
  }
  std::size_t longest() const;  // tokens in the longest document

  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Doc;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Doc;
    iterator() = default;
    iterator(const Documents* docs, std::size_t i) : docs_(docs), i_(i) {}
    Doc operator*() const { return (*docs_)[i_]; }
    Doc operator[](difference_type n) const { return (*docs_)[i_ + n]; }
    iterator& operator++() { return ++i_, *this; }
    iterator operator++(int) { return {docs_, i_++}; }
    iterator& operator--() { return --i_, *this; }
    iterator& operator+=(difference_type n) { return i_ += n, *this; }
    iterator operator+(difference_type n) const { return {docs_, i_ + n}; }
    iterator operator-(difference_type n) const { return {docs_, i_ - n}; }
    difference_type operator-(const iterator& other) const {
      return difference_type(i_) - difference_type(other.i_);
    }
    auto operator<=>(const iterator& other) const { return i_ <=> other.i_; }
    bool operator==(const iterator& other) const { return i_ == other.i_; }

   private:
    const Documents* docs_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, size()}; }

 private:
  friend class DatasetBuilder;
  std::vector<std::uint32_t> tokens_;  // every document's tokens, in file order
  std::vector<std::uint32_t> ends_;    // ends_[i]: one past document i's last token
};

struct Dataset {
  Documents docs;                     // token ids, in file order
  std::vector<std::uint32_t> uchars;  // code point of each token id
  // FNV-1a 64 of the bytes it was parsed from: bench_train's worker processes
  // read the file again and compare, so all train on the bytes the parent read.
  std::uint64_t content_hash = 0;
  int bos() const { return int(uchars.size()); }
  int vocab_size() const { return int(uchars.size()) + 1; }
  std::string decode(std::span<const std::uint32_t> tokens) const;  // UTF-8
};

inline constexpr std::uint64_t kMaxDatasetBytes = 1ULL << 30;
// Peak memory of load_dataset, in bytes per byte of the file: the packed
// documents (see Documents) plus small buffers. tests/reliability measure it.
inline constexpr std::uint64_t kLoadBytesPerFileByte = 4;
inline constexpr std::uint64_t kLoadFixedBytes = 8ULL << 20;  // read buffer, code point table
inline constexpr std::string_view kDatasetUrl =
    "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt";
inline constexpr std::string_view kDatasetSha256 =
    "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d";

Dataset parse_dataset(std::string_view text);   // throws DatasetError
Dataset load_dataset(const std::string& path);  // throws DatasetError
// The size of the file load_dataset would read (0 for files such as /proc's
// that do not know it). Throws DatasetError if it is missing, not a regular
// file or over kMaxDatasetBytes.
std::uint64_t dataset_file_bytes(const std::string& path);

// ---- where the dataset is: the one rule for every program, script and test ----
//
//   1. an explicit path (bench_train --data, $MGA_DATA for the Google Benchmark programs);
//   2. else ../shared/data/names.txt, the team's copy beside the checkout, if it exists;
//   3. else data/names.txt, downloaded (atomically, sha256-checked) when missing.
// Relative paths are taken from `base`: the working directory for programs,
// the source directory for tests.
inline constexpr std::string_view kSharedDatasetPath = "../shared/data/names.txt";
inline constexpr std::string_view kDefaultDatasetPath = "data/names.txt";

struct DatasetSearch {
  std::string base = ".";
  bool download = true;  // step 3 may download; without it a missing file is an error
};
// The path to train on. Throws DatasetError (one line, naming what was tried).
std::string resolve_dataset(const std::string& explicit_path, const DatasetSearch& search = {});

// Downloads kDatasetUrl to `path` with curl; `path` appears only if the whole
// file arrived and its sha256 is kDatasetSha256, and a directory made for it
// is removed again if not. Throws DatasetError.
void download_dataset(const std::string& path, std::string_view url = kDatasetUrl,
                      std::string_view sha256 = kDatasetSha256);

}  // namespace mga
