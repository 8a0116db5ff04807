#include "core/dataset.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/sha256.hpp"

extern char** environ;

namespace mga {

namespace {

// str.isspace() for the characters str.strip() removes.
bool is_python_space(std::uint32_t c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3f));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

// An open file descriptor, closed with the object.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Opens `path` for reading without blocking on a FIFO and checks, on the open
// file itself, that it is a regular file within kMaxDatasetBytes. Returns its size.
std::uint64_t open_dataset(const std::string& path, Fd& file) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw DatasetError("dataset not found: " + path);
    throw DatasetError("cannot read dataset " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(info.st_mode)) throw DatasetError("dataset is a directory: " + path);
  // A FIFO would block open() forever, and pipes and devices have no size.
  if (!S_ISREG(info.st_mode)) throw DatasetError("dataset is not a regular file: " + path);
  file.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (file.fd < 0 || fstat(file.fd, &info) != 0)
    throw DatasetError("cannot read dataset " + path + ": " + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) throw DatasetError("dataset is not a regular file: " + path);
  const auto size = static_cast<std::uint64_t>(info.st_size);
  if (size > kMaxDatasetBytes) {
    throw DatasetError("dataset " + path + " is " + std::to_string(size >> 20) +
                       " MiB; the limit is " + std::to_string(kMaxDatasetBytes >> 20) + " MiB");
  }
  return size;
}

// Reads the open file to its end in pieces, handing each to `consume(bytes,
// last)`, which returns how many it used (the rest is handed again, with more).
// Files such as /proc's say they are empty: the limit is checked as they are read.
template <class Consume>
void read_pieces(const std::string& path, int fd, Consume&& consume) {
  std::vector<char> buffer(256 << 10);
  std::size_t kept = 0;
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = read(fd, buffer.data() + kept, buffer.size() - kept);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw DatasetError("cannot read dataset " + path + ": " + std::strerror(errno));
    total += std::uint64_t(n);
    if (total > kMaxDatasetBytes) {
      throw DatasetError("dataset " + path + " is larger than the limit of " +
                         std::to_string(kMaxDatasetBytes >> 20) + " MiB");
    }
    const std::size_t have = kept + std::size_t(n);
    const std::size_t used = consume(std::string_view(buffer.data(), have), n == 0);
    kept = have - used;
    std::memmove(buffer.data(), buffer.data() + used, kept);
    if (n == 0) return;
  }
}

}  // namespace

// Builds a Dataset from text fed in pieces: strict UTF-8 decoding (as Python's
// decoder: no overlongs, no surrogates, <= U+10FFFF), universal newlines, each
// line stripped, blank lines dropped. Code points go straight into the packed
// documents and become token ids in place at the end, so the only memory is
// the documents themselves.
class DatasetBuilder {
 public:
  explicit DatasetBuilder(std::uint64_t size_hint) {
    docs_.tokens_.reserve(size_hint);
    docs_.ends_.reserve(size_hint / 2 + 1);
  }

  // Decodes `text`; returns the bytes used. A sequence cut off by the end of
  // `text` is left for the next piece, unless `last`.
  std::size_t feed(std::string_view text, bool last) {
    std::size_t i = 0;
    while (i < text.size()) {
      auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
      const unsigned char lead = byte(i);
      const int extra = lead < 0x80           ? 0
                        : (lead >> 5) == 0x6  ? 1
                        : (lead >> 4) == 0xe  ? 2
                        : (lead >> 3) == 0x1e ? 3
                                              : -1;
      if (extra > 0 && i + std::size_t(extra) >= text.size() && !last) break;
      std::uint32_t cp = extra == 0   ? lead
                         : extra == 1 ? lead & 0x1f
                         : extra == 2 ? lead & 0x0f
                                      : lead & 0x07;
      bool ok = extra >= 0 && i + std::size_t(extra) < text.size();
      for (int k = 1; ok && k <= extra; ++k) {
        const unsigned char c = byte(i + k);
        ok = (c & 0xc0) == 0x80;
        cp = (cp << 6) | (c & 0x3f);
      }
      static constexpr std::uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
      ok = ok && cp >= kMinForLength[extra < 0 ? 0 : extra] && cp <= 0x10ffff &&
           !(cp >= 0xd800 && cp <= 0xdfff);
      if (!ok) {
        throw DatasetError("dataset is not valid UTF-8 (bad byte at offset " +
                           std::to_string(offset_ + i) + ")");
      }
      code_point(cp);
      i += std::size_t(extra) + 1;
    }
    for (std::size_t k = 0; k < i; ++k)  // each byte once: the rest is handed again
      hash_ = (hash_ ^ static_cast<unsigned char>(text[k])) * 1099511628211ULL;
    offset_ += i;
    return i;
  }

  Dataset finish() {
    end_line();
    if (docs_.empty()) throw DatasetError("dataset has no names (every line is empty)");
    // Token ids: the code points' ranks among the distinct code points.
    std::vector<std::uint32_t> id_of(max_code_point_ + 1, 0);
    for (std::uint32_t c : docs_.tokens_) id_of[c] = 1;
    Dataset data;
    for (std::uint32_t c = 0; c <= max_code_point_; ++c) {
      if (id_of[c]) {
        id_of[c] = std::uint32_t(data.uchars.size());
        data.uchars.push_back(c);
      }
    }
    for (std::uint32_t& t : docs_.tokens_) t = id_of[t];
    data.docs = std::move(docs_);
    data.content_hash = hash_;
    return data;
  }

 private:
  // Leading spaces are skipped; trailing ones are kept until the line ends,
  // then cut off. "\r\n" ends a line and then an empty one, which is dropped.
  void code_point(std::uint32_t c) {
    if (c == '\n' || c == '\r') return end_line();
    const bool space = is_python_space(c);
    if (space && line_start_ == docs_.tokens_.size()) return;
    if (docs_.tokens_.size() == std::numeric_limits<std::uint32_t>::max())
      throw DatasetError("dataset has more than 2^32 characters");
    docs_.tokens_.push_back(c);
    if (!space) kept_end_ = docs_.tokens_.size();
    max_code_point_ = std::max(max_code_point_, c);
  }

  void end_line() {
    docs_.tokens_.resize(kept_end_);
    if (kept_end_ > line_start_) docs_.ends_.push_back(std::uint32_t(kept_end_));
    line_start_ = kept_end_;
  }

  Documents docs_;
  std::uint64_t offset_ = 0;                      // of the next byte fed, for error messages
  std::uint64_t hash_ = 14695981039346656037ULL;  // FNV-1a 64 of the bytes fed
  std::size_t line_start_ = 0;                    // where the current line's tokens begin
  std::size_t kept_end_ = 0;                      // one past its last non-space token
  std::uint32_t max_code_point_ = 0;
};

std::size_t Documents::longest() const {
  std::size_t longest = 0;
  for (std::size_t i = 0; i < size(); ++i) longest = std::max(longest, (*this)[i].size());
  return longest;
}

Dataset parse_dataset(std::string_view text) {
  DatasetBuilder builder(text.size());
  builder.feed(text, true);
  return builder.finish();
}

std::uint64_t dataset_file_bytes(const std::string& path) {
  Fd file;
  return open_dataset(path, file);
}

Dataset load_dataset(const std::string& path) {
  try {
    Fd file;
    DatasetBuilder builder(open_dataset(path, file));
    read_pieces(path, file.fd,
                [&](std::string_view bytes, bool last) { return builder.feed(bytes, last); });
    return builder.finish();
  } catch (const DatasetError& e) {
    std::string message = e.what();
    if (message.find(path) == std::string::npos) message += " in " + path;
    throw DatasetError(message);
  }
}

std::string Dataset::decode(std::span<const std::uint32_t> tokens) const {
  std::string out;
  for (std::uint32_t t : tokens) append_utf8(out, uchars[t]);
  return out;
}

namespace {

// The whole file (for the downloaded copy's sha256), within kMaxDatasetBytes.
std::string read_whole_file(const std::string& path) {
  Fd file;
  open_dataset(path, file);
  std::string bytes;
  read_pieces(path, file.fd, [&](std::string_view piece, bool) {
    bytes.append(piece);
    return piece.size();
  });
  return bytes;
}

// Creates the missing directories above `path`, outermost first, and returns
// them innermost first, for remove_created() to undo. Throws DatasetError.
std::vector<std::filesystem::path> create_parents(const std::filesystem::path& path) {
  std::vector<std::filesystem::path> missing;
  std::error_code error;
  for (auto dir = path.parent_path(); !dir.empty() && !std::filesystem::exists(dir, error);
       dir = dir.parent_path()) {
    missing.push_back(dir);
    if (dir == dir.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (!std::filesystem::create_directory(*it, error) && error) {
      std::vector<std::filesystem::path> made(it.base(), missing.end());
      for (const auto& dir : made) std::filesystem::remove(dir, error);
      throw DatasetError("cannot create directory " + it->string() + ": " + error.message());
    }
  }
  return missing;
}

void remove_created(const std::vector<std::filesystem::path>& dirs) {
  std::error_code error;
  for (const auto& dir : dirs) std::filesystem::remove(dir, error);  // only if still empty
}

}  // namespace

void download_dataset(const std::string& path, std::string_view url, std::string_view sha256) {
  const std::filesystem::path target(path);
  const auto created = create_parents(target);
  const std::string temp = path + ".download." + std::to_string(getpid());
  const std::string curl_errors = temp + ".err";
  std::error_code error;
  auto fail = [&](const std::string& why) {
    std::filesystem::remove(temp, error);
    std::filesystem::remove(curl_errors, error);
    remove_created(created);
    throw DatasetError("could not download the dataset from " + std::string(url) + ": " + why);
  };

  // Both files are made here, so an unwritable directory is named as the cause.
  Fd out, errors;
  out.fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out.fd < 0) fail("cannot write " + temp + ": " + std::strerror(errno));
  errors.fd = open(curl_errors.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (errors.fd < 0) fail("cannot write " + curl_errors + ": " + std::strerror(errno));
  // curl's own error message goes to a file and into ours: the user sees one line.
  auto curl_said = [&] {
    std::ifstream in(curl_errors);
    std::string line;
    std::getline(in, line);
    return line.empty() ? line : ": " + line;
  };
  std::string url_arg(url);
  const char* argv[] = {"curl", "-fsSL",      "--max-time",    "300",
                        "-o",   temp.c_str(), url_arg.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, errors.fd, STDERR_FILENO);
  pid_t pid = 0;
  const int spawned =
      posix_spawnp(&pid, "curl", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned == ENOENT) fail("curl is not installed");
  if (spawned != 0) fail(std::string("cannot run curl: ") + std::strerror(spawned));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail("curl failed (exit " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
         curl_said() + ")");
  }
  std::string bytes;
  try {
    bytes = read_whole_file(temp);
  } catch (const DatasetError& e) {
    fail(e.what());
  }
  const std::string digest = sha256_hex(bytes);
  if (digest != sha256) fail("sha256 is " + digest + ", expected " + std::string(sha256));
  std::filesystem::rename(temp, target, error);
  if (error) fail("cannot rename to " + path + ": " + error.message());
  std::filesystem::remove(curl_errors, error);
}

std::string resolve_dataset(const std::string& explicit_path, const DatasetSearch& search) {
  if (!explicit_path.empty()) return explicit_path;
  const std::filesystem::path base(search.base);
  const std::string shared = (base / kSharedDatasetPath).lexically_normal().string();
  const std::string local = (base / kDefaultDatasetPath).lexically_normal().string();
  std::error_code error;
  if (std::filesystem::exists(shared, error)) return shared;
  if (std::filesystem::exists(local, error)) return local;
  const std::string advice = "; pass --data PATH to a names.txt (one name per line)";
  if (!search.download) throw DatasetError("no dataset at " + shared + " or " + local + advice);
  try {
    download_dataset(local);
  } catch (const DatasetError& e) {
    throw DatasetError(std::string(e.what()) + advice);
  }
  return local;
}

}  // namespace mga
