#include "bench/context.hpp"

#include <gnu/libc-version.h>
#include <jemalloc/jemalloc.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>

#include "allocators/mimalloc_api.hpp"

#ifndef MGA_GIT_COMMIT
#define MGA_GIT_COMMIT "unknown"
#endif
#ifndef MGA_CXX_FLAGS
#define MGA_CXX_FLAGS "unknown"
#endif

namespace mga {

namespace {

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buffer;
}

std::string mimalloc_version() {
  try {
    int v = mimalloc_api().version();  // e.g. 209 for 2.0.9
    return std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." +
           std::to_string(v % 10);
  } catch (const std::exception&) {
    return "unavailable";
  }
}

std::string jemalloc_version() {
  const char* version = nullptr;
  std::size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) return "unknown";
  return version;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> measurement_context() {
  utsname system{};
  uname(&system);
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return {
      {"date", utc_now()},
      {"host", host},
      {"kernel", std::string(system.sysname) + " " + system.release},
      {"cpu", cpu_model()},
      {"cores", std::to_string(sysconf(_SC_NPROCESSORS_ONLN))},
#ifdef __clang__
      {"compiler", "clang " __clang_version__},
#else
      {"compiler", "g++ " __VERSION__},
#endif
      {"flags", MGA_CXX_FLAGS},
      {"glibc", gnu_get_libc_version()},
      {"mimalloc", mimalloc_version()},
      {"jemalloc", jemalloc_version()},
      {"git_commit", MGA_GIT_COMMIT},
  };
}

}  // namespace mga
