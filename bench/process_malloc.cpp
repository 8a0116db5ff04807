#include "bench/process_malloc.hpp"

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <jemalloc/jemalloc.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "allocators/mimalloc_api.hpp"
#include "allocators/tcmalloc_api.hpp"

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

// The names here are the libraries' names, which the API policies of the same
// libraries share (tests/cli/check_policy_names.py allows them in this file).
constexpr ProcessMalloc kMallocs[] = {
    {"glibc", "", "", "libc6", "", "glibc malloc, the default", glibc_version},
    {"glibc-nofastbins", "", "", "libc6", "glibc.malloc.mxfast=0",
     "glibc malloc with fastbins off (GLIBC_TUNABLES)", nullptr},
    {"mimalloc", "libmimalloc.so.2", "mi_version", "libmimalloc2.0", "", "mimalloc, LD_PRELOAD",
     mimalloc_version},
    {"jemalloc", "libjemalloc.so.2", "mallctl", "libjemalloc2", "", "jemalloc, LD_PRELOAD",
     jemalloc_version},
    {"tcmalloc", "libtcmalloc_minimal.so.4", "tc_version", "libtcmalloc-minimal4", "",
     "gperftools tcmalloc (minimal), LD_PRELOAD", tcmalloc_version},
};

std::string library_of(void* address) {
  Dl_info info{};
  if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "?";
  return info.dli_fname;
}

std::string file_name(const std::string& path) {
  return std::filesystem::path(path).filename();
}

// Whether the loaded library `library` itself defines `symbol`.
bool defines(const std::string& library, std::string_view symbol) {
  void* handle = dlopen(library.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  void* address = dlsym(handle, std::string(symbol).c_str());
  const bool found = address != nullptr && library_of(address) == library;
  dlclose(handle);
  return found;
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

std::vector<std::string> search_directories() {
  std::vector<std::string> directories = library_path_variable();
  if (!directories.empty()) return directories;
  // glibc's directory (/lib/x86_64-linux-gnu on Debian), its /usr twin, then the rest.
  const std::string libc_dir =
      std::filesystem::path(library_of(reinterpret_cast<void*>(&gnu_get_libc_version)))
          .parent_path();
  directories = {libc_dir, "/usr" + libc_dir, "/usr/local/lib", "/usr/lib", "/lib"};
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

}  // namespace

std::span<const ProcessMalloc> process_mallocs() {
  return kMallocs;
}

const ProcessMalloc* find_process_malloc(std::string_view name) {
  for (const auto& m : kMallocs)
    if (m.name == name) return &m;
  return nullptr;
}

std::string preload_path(const ProcessMalloc& m) {
  if (m.preload.empty()) return "";
  for (const auto& directory : search_directories()) {
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
  const std::string file = file_name(active.library);
  active.name = file;
  for (const auto& m : kMallocs)
    if (!m.signature.empty() && defines(active.library, m.signature)) active.name = m.name;
  if (file.rfind("libc.so", 0) == 0) {
    active.name = glibc_fastbins_enabled() ? "glibc" : "glibc-nofastbins";
  }
  return active;
}

ActiveMalloc checked_process_malloc(std::string_view requested) {
  ActiveMalloc active = active_process_malloc();
  if (requested.empty()) return active;
  const std::string wanted(requested);
  if (active.name != wanted) {
    throw std::runtime_error("--malloc=" + wanted + " is not in effect: malloc resolves into " +
                             active.library + " (" + active.name + ")");
  }
  const std::string new_file = file_name(active.new_library);
  if (new_file != file_name(active.library) && new_file.rfind("libstdc++", 0) != 0) {
    throw std::runtime_error("--malloc=" + wanted + ": operator new resolves into " +
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

}  // namespace mga
