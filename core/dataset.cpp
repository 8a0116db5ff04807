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
#include <sstream>
#include <unordered_map>

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

// Strict UTF-8 (as Python's decoder: no overlongs, no surrogates, <= U+10FFFF).
std::vector<std::uint32_t> decode_utf8(std::string_view text) {
  std::vector<std::uint32_t> out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char lead = byte(i);
    int extra = lead < 0x80           ? 0
                : (lead >> 5) == 0x6  ? 1
                : (lead >> 4) == 0xe  ? 2
                : (lead >> 3) == 0x1e ? 3
                                      : -1;
    std::uint32_t cp = extra == 0   ? lead
                       : extra == 1 ? lead & 0x1f
                       : extra == 2 ? lead & 0x0f
                                    : lead & 0x07;
    bool ok = extra >= 0 && i + std::size_t(extra) < text.size();
    for (int k = 1; ok && k <= extra; ++k) {
      unsigned char c = byte(i + k);
      ok = (c & 0xc0) == 0x80;
      cp = (cp << 6) | (c & 0x3f);
    }
    static constexpr std::uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    ok = ok && cp >= kMinForLength[extra < 0 ? 0 : extra] && cp <= 0x10ffff &&
         !(cp >= 0xd800 && cp <= 0xdfff);
    if (!ok) {
      throw DatasetError("dataset is not valid UTF-8 (bad byte at offset " + std::to_string(i) +
                         ")");
    }
    out.push_back(cp);
    i += std::size_t(extra) + 1;
  }
  return out;
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

std::string read_file(const std::string& path) {
  std::error_code error;
  auto status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status)) throw DatasetError("dataset not found: " + path);
  if (std::filesystem::is_directory(status)) throw DatasetError("dataset is a directory: " + path);
  // A FIFO would block the open() below forever, and pipes and devices have no size.
  if (!std::filesystem::is_regular_file(status))
    throw DatasetError("dataset is not a regular file: " + path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DatasetError("cannot read dataset " + path + ": " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::uint64_t>(in.tellg());
  if (size > kMaxDatasetBytes) {
    throw DatasetError("dataset " + path + " is " + std::to_string(size >> 20) +
                       " MiB; the limit is " + std::to_string(kMaxDatasetBytes >> 20) + " MiB");
  }
  in.seekg(0);
  std::string bytes(size, '\0');
  if (!in.read(bytes.data(), std::streamsize(size)))
    throw DatasetError("cannot read dataset " + path);
  return bytes;
}

}  // namespace

Dataset parse_dataset(std::string_view text) {
  std::vector<std::uint32_t> chars = decode_utf8(text);
  // Universal newlines, as open() in text mode: "\r\n" and "\r" become "\n".
  std::vector<std::vector<std::uint32_t>> lines(1);
  for (std::size_t i = 0; i < chars.size(); ++i) {
    std::uint32_t c = chars[i];
    if (c == '\r' && i + 1 < chars.size() && chars[i + 1] == '\n') continue;
    if (c == '\r' || c == '\n') {
      lines.emplace_back();
    } else {
      lines.back().push_back(c);
    }
  }
  std::vector<std::vector<std::uint32_t>> docs;
  for (auto& line : lines) {
    auto first = std::find_if_not(line.begin(), line.end(), is_python_space);
    auto last = std::find_if_not(line.rbegin(), line.rend(), is_python_space).base();
    if (first < last) docs.emplace_back(first, last);
  }
  if (docs.empty()) throw DatasetError("dataset has no names (every line is empty)");

  Dataset data;
  for (const auto& doc : docs) data.uchars.insert(data.uchars.end(), doc.begin(), doc.end());
  std::sort(data.uchars.begin(), data.uchars.end());
  data.uchars.erase(std::unique(data.uchars.begin(), data.uchars.end()), data.uchars.end());
  std::unordered_map<std::uint32_t, std::uint32_t> token_of;
  for (std::size_t i = 0; i < data.uchars.size(); ++i) token_of[data.uchars[i]] = std::uint32_t(i);
  for (auto& doc : docs) {
    for (auto& c : doc) c = token_of[c];
  }
  data.docs = std::move(docs);
  return data;
}

Dataset load_dataset(const std::string& path) {
  try {
    return parse_dataset(read_file(path));
  } catch (const DatasetError& e) {
    std::string message = e.what();
    if (message.find(path) == std::string::npos) message += " in " + path;
    throw DatasetError(message);
  }
}

std::string Dataset::decode(const std::vector<std::uint32_t>& tokens) const {
  std::string out;
  for (std::uint32_t t : tokens) append_utf8(out, uchars[t]);
  return out;
}

void download_dataset(const std::string& path, std::string_view url, std::string_view sha256) {
  std::filesystem::path target(path);
  std::error_code error;
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), error);
  std::string temp = path + ".download." + std::to_string(getpid());
  auto fail = [&](const std::string& why) {
    std::filesystem::remove(temp, error);
    throw DatasetError("could not download the dataset from " + std::string(url) + ": " + why);
  };

  // curl's own error message goes to a file and into ours: the user sees one line.
  const std::string curl_errors = temp + ".err";
  auto curl_error = [&] {
    std::ifstream in(curl_errors);
    std::string line;
    std::getline(in, line);
    std::filesystem::remove(curl_errors, error);
    return line.empty() ? line : ": " + line;
  };
  std::string url_arg(url);
  const char* argv[] = {"curl", "-fsSL",      "--max-time",    "300",
                        "-o",   temp.c_str(), url_arg.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, curl_errors.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int spawned =
      posix_spawnp(&pid, "curl", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    curl_error();
    fail("curl is not installed");
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string curl_said = curl_error();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail("curl failed (exit " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
         curl_said + ")");
  }
  std::string bytes;
  try {
    bytes = read_file(temp);
  } catch (const DatasetError& e) {
    fail(e.what());
  }
  std::string digest = sha256_hex(bytes);
  if (digest != sha256) fail("sha256 is " + digest + ", expected " + std::string(sha256));
  std::filesystem::rename(temp, target, error);
  if (error) fail("cannot rename to " + path + ": " + error.message());
}

std::string resolve_dataset(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  std::string path(kDefaultDatasetPath);
  if (std::filesystem::exists(path)) return path;
  try {
    download_dataset(path);
  } catch (const DatasetError& e) {
    throw DatasetError(std::string(e.what()) +
                       "; pass --data PATH to a names.txt (one name per line)");
  }
  return path;
}

}  // namespace mga
