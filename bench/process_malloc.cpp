#include "bench/process_malloc.hpp"

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <jemalloc/jemalloc.h>
#include <malloc.h>
#include <string.h>  // strverscmp
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "allocators/mimalloc_api.hpp"
#include "allocators/tcmalloc_api.hpp"
#include "bench/text.hpp"
#include "core/sha256.hpp"

namespace mga {

namespace {

constexpr const char* kMarker = "MGA_PROCESS_MALLOC";

std::string glibc_version() {
  return gnu_get_libc_version();
}

std::string mimalloc_version() {
  try {
    const int v = mimalloc_api().version();  // e.g. 209 for 2.0.9
    return std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." +
           std::to_string(v % 10);
  } catch (const std::exception&) {
    return "unavailable";
  }
}

// The linked private copy (allocators/jemalloc.hpp), built from the same
// Debian source package as libjemalloc.so.2.
std::string jemalloc_version() {
  const char* version = nullptr;
  std::size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) return "unknown";
  return version;
}

std::string tcmalloc_version() {
  try {
    int major = 0, minor = 0;
    const char* patch = "";
    tcmalloc_api().version(&major, &minor, &patch);
    return std::to_string(major) + "." + std::to_string(minor) + (patch ? patch : "");
  } catch (const std::exception&) {
    return "unavailable";
  }
}

std::string tbbmalloc_version();
std::string scudo_version();

// LLVM's runtime directories (/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux),
// newest first: where Debian's libclang-rt-N-dev puts scudo.
std::vector<std::string> clang_runtime_directories() {
  namespace fs = std::filesystem;
  std::vector<std::string> found;
  std::error_code error;
  for (const auto& llvm : fs::directory_iterator("/usr/lib", error)) {
    if (llvm.path().filename().string().rfind("llvm-", 0) != 0) continue;
    std::error_code inner;
    for (const auto& version : fs::directory_iterator(llvm.path() / "lib/clang", inner))
      found.push_back((version.path() / "lib/linux").string());
  }
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    return strverscmp(a.c_str(), b.c_str()) > 0;
  });
  return found;
}

// The names here are the libraries' names, which the API policies of the same
// libraries share (tests/cli/check_policy_names.py allows them in this file).
constexpr auto kBuiltin = MallocSource::builtin;
constexpr ProcessMalloc kMallocs[] = {
    {"glibc", "", "", "libc6", "", "glibc malloc, the default", glibc_version, nullptr, kBuiltin},
    {"glibc-nofastbins", "", "", "libc6", "glibc.malloc.mxfast=0",
     "glibc malloc with fastbins off (GLIBC_TUNABLES)", nullptr, nullptr, kBuiltin},
    {"mimalloc", "libmimalloc.so.2", "mi_version", "libmimalloc2.0", "", "mimalloc, LD_PRELOAD",
     mimalloc_version, nullptr, kBuiltin},
    {"jemalloc", "libjemalloc.so.2", "mallctl", "libjemalloc2", "", "jemalloc, LD_PRELOAD",
     jemalloc_version, nullptr, kBuiltin},
    {"tcmalloc", "libtcmalloc_minimal.so.4", "tc_version", "libtcmalloc-minimal4", "",
     "gperftools tcmalloc (minimal), LD_PRELOAD", tcmalloc_version, nullptr, kBuiltin},
    {"tbbmalloc", "libtbbmalloc_proxy.so.2", "__TBB_malloc_proxy", "libtbbmalloc2", "",
     "oneTBB tbbmalloc (its malloc proxy), LD_PRELOAD", tbbmalloc_version, nullptr, kBuiltin},
    {"scudo", "libclang_rt.scudo_standalone-x86_64.so", "__scudo_print_stats", "libclang-rt-14-dev",
     "", "LLVM scudo (standalone), LD_PRELOAD", scudo_version, clang_runtime_directories, kBuiltin},
};
constexpr const ProcessMalloc& kTbbmalloc = kMallocs[5];
constexpr const ProcessMalloc& kScudo = kMallocs[6];

// The real file name, which carries the version (libtbbmalloc_proxy.so.2.8,
// from oneTBB 2021.8): tbbmalloc exports no version function.
std::string tbbmalloc_version() {
  try {
    return std::filesystem::canonical(preload_path(kTbbmalloc)).filename();
  } catch (const std::exception&) {  // MallocUnavailable, or a file gone since
    return "unavailable";
  }
}

// The version of the clang runtime directory it lives in (.../clang/14.0.6/lib/linux).
std::string scudo_version() {
  try {
    const std::filesystem::path path = preload_path(kScudo);
    const std::filesystem::path version = path.parent_path().parent_path().parent_path();
    if (version.parent_path().filename() != "clang") return "unknown";
    return version.filename();
  } catch (const MallocUnavailable&) {
    return "unavailable";
  }
}

// The user allocators: the strings each entry's views point into, kept at a
// fixed address for the life of the process (a deque does not move its elements).
struct UserMalloc {
  std::string name, path, description;
  ProcessMalloc entry{};
};
std::deque<UserMalloc>& user_mallocs() {
  static std::deque<UserMalloc> users;
  return users;
}

std::string file_name(const std::string& path) {
  return std::filesystem::path(path).filename();
}

// The directories of $MGA_MALLOC_LIBRARY_PATH; none if it is unset or empty.
std::vector<std::string> library_path_variable() {
  std::vector<std::string> directories;
  const char* path = std::getenv("MGA_MALLOC_LIBRARY_PATH");
  std::istringstream in(path != nullptr ? path : "");
  for (std::string directory; std::getline(in, directory, ':');)
    if (!directory.empty()) directories.push_back(directory);
  return directories;
}

std::vector<std::string> search_directories(const ProcessMalloc& m) {
  std::vector<std::string> directories = library_path_variable();
  if (!directories.empty()) return directories;
  // glibc's directory (/lib/x86_64-linux-gnu on Debian), its /usr twin, then the rest.
  const std::string libc_dir =
      std::filesystem::path(library_of(reinterpret_cast<void*>(&gnu_get_libc_version)))
          .parent_path();
  directories = {libc_dir, "/usr" + libc_dir, "/usr/local/lib", "/usr/lib", "/lib"};
  if (m.more_directories != nullptr) {
    const std::vector<std::string> more = m.more_directories();
    directories.insert(directories.end(), more.begin(), more.end());
  }
  return directories;
}

// Whether glibc still puts freed small blocks into fastbins: free more 24-byte
// blocks than the per-thread cache takes (7 per size) and ask mallinfo2 how
// many bytes sit in fastbins. With glibc.malloc.mxfast=0 none ever do. (A size
// class nodes do not use, and called after the measurement.)
bool glibc_fastbins_enabled() {
  constexpr int kBlocks = 32;
  void* (*volatile allocate)(std::size_t) = std::malloc;  // volatile: not optimized away
  void (*volatile deallocate)(void*) = std::free;
  void* blocks[kBlocks];
  for (auto& block : blocks) block = allocate(24);
  for (auto* block : blocks) deallocate(block);
  return mallinfo2().fsmblks > 0;
}

// The built-in allocator the loaded library `library` is (by its signature,
// glibc by its file name and fastbins), else its file name.
std::string builtin_name_of(const std::string& library) {
  const std::string file = file_name(library);
  if (file.rfind("libc.so", 0) == 0) return glibc_fastbins_enabled() ? "glibc" : "glibc-nofastbins";
  for (const auto& m : kMallocs)
    if (!m.signature.empty() && library_defines(library, m.signature)) return std::string(m.name);
  return file;
}

// The user allocator whose file `library` is, else null.
const ProcessMalloc* user_malloc_in(const std::string& library) {
  for (const auto& user : user_mallocs())
    if (same_file(library, user.path)) return &user.entry;
  return nullptr;
}

}  // namespace

MallocUnavailable::MallocUnavailable(const std::string& message)
    : std::runtime_error(one_line(message)) {}

std::span<const ProcessMalloc> process_mallocs() {
  return kMallocs;
}

std::vector<const ProcessMalloc*> all_process_mallocs() {
  std::vector<const ProcessMalloc*> all;
  for (const auto& m : kMallocs) all.push_back(&m);
  for (const auto& user : user_mallocs()) all.push_back(&user.entry);
  return all;
}

const ProcessMalloc* find_process_malloc(std::string_view name) {
  for (const ProcessMalloc* m : all_process_mallocs())
    if (m->name == name) return m;
  return nullptr;
}

std::string quoted_for_message(std::string_view text) {
  std::string shown(text.substr(0, 60));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return "'" + shown + (text.size() > 60 ? "...'" : "'");
}

std::string user_malloc_name_problem(std::string_view name) {
  const std::string quoted = quoted_for_message(name);
  const bool plain = !name.empty() && name.size() <= 64 && name.front() != '.' &&
                     name.front() != '-' && std::all_of(name.begin(), name.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                     });
  if (!plain) {
    return quoted +
           " is not a plain name (1 to 64 letters, digits, '.', '_' or '-', not starting with "
           "'.' or '-')";
  }
  if (name == "all") return "'all' is reserved for every process allocator";
  for (const auto& m : kMallocs)
    if (m.name == name) return quoted + " is a built-in process allocator's name";
  return "";
}

const ProcessMalloc& add_user_malloc(std::string_view name, std::string_view path) {
  if (const std::string problem = user_malloc_name_problem(name); !problem.empty())
    throw MallocUnavailable("--malloc: " + problem);
  for (const auto& user : user_mallocs()) {
    if (user.name != name) continue;
    if (user.path == path || same_file(user.path, std::string(path))) return user.entry;
    throw MallocUnavailable("--malloc: '" + user.name + "' names two libraries: " + user.path +
                            " and " + std::string(path));
  }
  UserMalloc& user = user_mallocs().emplace_back();
  user.name = name;
  user.path = path;
  user.description = "user allocator " + user.path + ", LD_PRELOAD";
  user.entry = {user.name, user.path,         "", "", "", user.description, nullptr,
                nullptr,   MallocSource::user};
  return user.entry;
}

std::string preload_path(const ProcessMalloc& m) {
  if (m.preload.empty()) return "";
  if (m.source == MallocSource::user) {
    const std::string path(m.preload);
    if (access(path.c_str(), R_OK) != 0) {
      throw MallocUnavailable("--malloc=" + std::string(m.name) + ": cannot read " + path + ": " +
                              std::strerror(errno));
    }
    return path;
  }
  for (const auto& directory : search_directories(m)) {
    const std::filesystem::path candidate = std::filesystem::path(directory) / m.preload;
    if (access(candidate.c_str(), R_OK) == 0) return candidate.string();
  }
  std::string where;
  for (const auto& directory : library_path_variable())
    where += (where.empty() ? " in MGA_MALLOC_LIBRARY_PATH=" : ":") + directory;
  throw MallocUnavailable("--malloc=" + std::string(m.name) + " needs " + std::string(m.preload) +
                          ", which is not installed" + where + " (apt-get install " +
                          std::string(m.package) + ")");
}

std::vector<std::string> process_malloc_environment(const ProcessMalloc& m) {
  return {"LD_PRELOAD=" + preload_path(m), "GLIBC_TUNABLES=" + std::string(m.tunables),
          std::string(kMarker) + "=" + std::string(m.name)};
}

std::string malloc_argument(const ProcessMalloc& m) {
  std::string argument(m.name);
  if (m.source == MallocSource::user) argument += "=" + std::string(m.preload);
  return argument;
}

bool started_with_process_malloc(const ProcessMalloc& m) {
  const char* marker = std::getenv(kMarker);
  return marker != nullptr && marker == m.name;
}

void restart_with_process_malloc(const ProcessMalloc& m, char** argv) {
  for (const auto& entry : process_malloc_environment(m)) {
    const auto equals = entry.find('=');
    setenv(entry.substr(0, equals).c_str(), entry.substr(equals + 1).c_str(), 1);
  }
  execv("/proc/self/exe", argv);
  throw std::runtime_error("cannot restart under --malloc=" + std::string(m.name) + ": " +
                           std::strerror(errno));
}

ActiveMalloc active_process_malloc() {
  ActiveMalloc active;
  active.library = library_of(dlsym(RTLD_DEFAULT, "malloc"));
  active.new_library = library_of(dlsym(RTLD_DEFAULT, "_Znwm"));  // operator new(size_t)
  if (const ProcessMalloc* user = user_malloc_in(active.library)) {
    active.name = user->name;
    active.source = MallocSource::user;
  } else {
    active.name = builtin_name_of(active.library);
  }
  return active;
}

ActiveMalloc checked_process_malloc(std::string_view requested) {
  ActiveMalloc active = active_process_malloc();
  if (file_name(active.library).rfind("libc.so", 0) != 0)
    active.sha256 = file_sha256(active.library);
  if (requested.empty()) return active;
  // Judged by the allocator asked for alone: a user allocator by its file, a
  // built-in by its signature, even if a user allocator is the same file.
  const ProcessMalloc* wanted = find_process_malloc(requested);
  const bool user = wanted != nullptr && wanted->source == MallocSource::user;
  const std::string name(requested);
  if (wanted == nullptr || (user ? !same_file(active.library, std::string(wanted->preload))
                                 : builtin_name_of(active.library) != name)) {
    throw std::runtime_error("--malloc=" + name + " is not in effect: malloc resolves into " +
                             active.library + " (" + active.name + ")");
  }
  active.name = name;
  active.source = wanted->source;
  const std::string new_file = file_name(active.new_library);
  if (!same_file(active.new_library, active.library) && new_file.rfind("libstdc++", 0) != 0) {
    throw std::runtime_error("--malloc=" + name + ": operator new resolves into " +
                             active.new_library + ", neither " + active.library + " nor libstdc++");
  }
  return active;
}

std::vector<std::pair<std::string, std::string>> allocator_library_versions() {
  std::vector<std::pair<std::string, std::string>> versions;
  for (const auto& m : kMallocs)
    if (m.version != nullptr) versions.emplace_back(m.name, m.version());
  return versions;
}

std::string library_of(const void* address) {
  Dl_info info{};
  if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "?";
  return info.dli_fname;
}

bool library_defines(const std::string& library, std::string_view symbol) {
  void* handle = dlopen(library.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  void* address = dlsym(handle, std::string(symbol).c_str());
  const bool found = address != nullptr && same_file(library_of(address), library);
  dlclose(handle);
  return found;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code error;
  return std::filesystem::equivalent(a, b, error);
}

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return in.bad() ? "" : sha256_hex(bytes.str());
}

std::vector<std::pair<std::string, std::string>> malloc_library_context(const ProcessMalloc& m) {
  if (m.preload.empty()) return {};
  const std::string path = preload_path(m), key = "malloc_" + std::string(m.name);
  return {{key + "_path", path}, {key + "_sha256", file_sha256(path)}};
}

}  // namespace mga
