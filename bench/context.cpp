#include "bench/context.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>

#include "bench/process_malloc.hpp"

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

}  // namespace

std::vector<std::pair<std::string, std::string>> measurement_context() {
  utsname system{};
  uname(&system);
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  std::vector<std::pair<std::string, std::string>> context = {
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
  };
  for (auto& library_version : allocator_library_versions()) context.push_back(library_version);
  context.push_back({"git_commit", MGA_GIT_COMMIT});
  return context;
}

}  // namespace mga
