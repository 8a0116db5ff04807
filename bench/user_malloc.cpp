#include "bench/user_malloc.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

extern char** environ;

namespace mga {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kProbeLine = "mga-malloc-probe: ";
constexpr int kProbeTimeoutSeconds = 10;
constexpr std::uintmax_t kMaxMallocFileBytes = 1 << 20;

// `path` made absolute from `base`; refused (with `where` first) if LD_PRELOAD
// could not carry it.
std::string library_path(std::string_view path, const fs::path& base, const std::string& where) {
  if (path.empty()) throw MallocUnavailable(where + ": the library path is empty");
  if (path.find_first_of(": \t\n\v\f\r") != std::string_view::npos) {
    throw MallocUnavailable(where + ": " + quoted_for_message(path) +
                            ": a path in LD_PRELOAD cannot hold ':' or white space");
  }
  if (path.find(',') != std::string_view::npos) {
    throw MallocUnavailable(where + ": " + quoted_for_message(path) +
                            ": a path cannot hold ',' (--malloc lists are split at each ',')");
  }
  return (base / fs::path(path)).lexically_normal().string();
}

// libfoo.so.2 -> foo: the file name without "lib" and from ".so" on.
std::string name_from_file(std::string_view path) {
  std::string name = fs::path(path).filename().string();
  if (name.rfind("lib", 0) == 0) name.erase(0, 3);
  for (std::size_t so = name.find(".so"); so != std::string::npos; so = name.find(".so", so + 1)) {
    if (so + 3 == name.size() || name[so + 3] == '.') return name.substr(0, so);
  }
  return name;
}

bool looks_like_path(std::string_view item) {
  if (item.find('/') != std::string_view::npos) return true;
  const std::size_t so = item.find(".so");
  return so != std::string_view::npos && (so + 3 == item.size() || item[so + 3] == '.');
}

// Runs the probe child with its stdout and stderr on one pipe; returns what it
// printed and its wait status. Throws MallocUnavailable (with `where` first).
std::pair<std::string, int> run_probe_child(const std::string& path, const std::string& where) {
  int pipe_ends[2];
  if (pipe2(pipe_ends, O_CLOEXEC) != 0)
    throw MallocUnavailable(where + ": cannot start the probe: " + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], 2);
  std::vector<std::string> environment = {"LD_PRELOAD=" + path};
  for (char** entry = environ; *entry != nullptr; ++entry)
    if (std::strncmp(*entry, "LD_PRELOAD=", 11) != 0) environment.emplace_back(*entry);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string program = "malloc-probe", flag(kMallocProbeFlag), argument = path;
  char* argv[] = {program.data(), flag.data(), argument.data(), nullptr};
  pid_t child = 0;
  const int spawned = posix_spawn(&child, "/proc/self/exe", &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_ends[1]);
  if (spawned != 0) {
    close(pipe_ends[0]);
    throw MallocUnavailable(where + ": cannot start the probe: " + std::strerror(spawned));
  }
  std::string output;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(kProbeTimeoutSeconds);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd readable{pipe_ends[0], POLLIN, 0};
    const int ready = left.count() > 0 ? poll(&readable, 1, int(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      timed_out = true;
      break;
    }
    char buffer[4096];
    const ssize_t got = read(pipe_ends[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (output.size() < (1 << 16)) output.append(buffer, std::size_t(got));
  }
  close(pipe_ends[0]);
  if (timed_out) kill(child, SIGKILL);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    throw MallocUnavailable(where + ": loading it took more than " +
                            std::to_string(kProbeTimeoutSeconds) + " s (the probe was killed)");
  }
  return {output, status};
}

// The last line of `output` that is not the probe's own, for a message.
std::string last_foreign_line(const std::string& output) {
  std::string last, line;
  std::istringstream lines(output);
  while (std::getline(lines, line))
    if (!line.empty() && line.rfind(kProbeLine, 0) != 0) last = line;
  return last;
}

}  // namespace

std::string valid_malloc_items() {
  std::string valid = "valid: all";
  for (const ProcessMalloc* m : all_process_mallocs()) valid += ", " + std::string(m->name);
  return valid + ", NAME=PATH or a library's path";
}

MallocSpec parse_malloc_spec(std::string_view item) {
  const std::string where = "--malloc=" + std::string(item);
  if (item.empty()) throw MallocUnavailable("--malloc: the value is empty");
  if (const auto equals = item.find('='); equals != std::string_view::npos) {
    const std::string name(item.substr(0, equals));
    if (const std::string problem = user_malloc_name_problem(name); !problem.empty())
      throw MallocUnavailable(where + ": " + problem);
    return {name, library_path(item.substr(equals + 1), fs::current_path(), where)};
  }
  if (looks_like_path(item)) {
    const std::string name = name_from_file(item);
    if (const std::string problem = user_malloc_name_problem(name); !problem.empty()) {
      throw MallocUnavailable(where + ": the name its file name gives, " + problem +
                              "; give --malloc=NAME=PATH");
    }
    return {name, library_path(item, fs::current_path(), where)};
  }
  if (item == "all" || find_process_malloc(item) != nullptr) return {std::string(item), ""};
  throw MallocUnavailable("--malloc: unknown process allocator " + quoted_for_message(item) + "; " +
                          valid_malloc_items());
}

std::vector<MallocSpec> parse_malloc_file_text(std::string_view text, const std::string& file,
                                               const fs::path& directory) {
  std::vector<MallocSpec> specs;
  std::map<std::string, int> first_line;  // name -> the line that named it
  std::istringstream lines{std::string(text)};
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    const std::string where = file + ":" + std::to_string(++number);
    std::istringstream words(line);
    std::vector<std::string> fields;
    for (std::string field; words >> field;) fields.push_back(field);
    if (fields.empty() || fields[0][0] == '#') continue;
    if (fields.size() != 2)
      throw MallocUnavailable(where + ": expected 'NAME PATH', got " + quoted_for_message(line));
    const std::string& name = fields[0];
    if (const std::string problem = user_malloc_name_problem(name); !problem.empty())
      throw MallocUnavailable(where + ": " + problem);
    if (const auto earlier = first_line.find(name); earlier != first_line.end()) {
      throw MallocUnavailable(where + ": '" + name + "' is already named on line " +
                              std::to_string(earlier->second));
    }
    first_line.emplace(name, number);
    specs.push_back({name, library_path(fields[1], directory, where)});
  }
  if (specs.empty()) throw MallocUnavailable(file + ": names no library (lines 'NAME PATH')");
  return specs;
}

std::vector<MallocSpec> read_malloc_file(const std::string& path) {
  const std::string where = "--malloc-file " + path;
  struct stat status {};
  if (stat(path.c_str(), &status) != 0)
    throw MallocUnavailable(where + ": " + std::strerror(errno));
  if (!S_ISREG(status.st_mode)) throw MallocUnavailable(where + ": not a regular file");
  if (std::uintmax_t(status.st_size) > kMaxMallocFileBytes)
    throw MallocUnavailable(where + ": larger than 1 MiB, not a malloc file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw MallocUnavailable(where + ": cannot read it: " + std::strerror(errno));
  std::ostringstream text;
  if (status.st_size > 0 && !(text << in.rdbuf()))
    throw MallocUnavailable(where + ": cannot read it");
  return parse_malloc_file_text(text.str(), path, fs::absolute(path).parent_path());
}

const ProcessMalloc& register_malloc_item(std::string_view item) {
  const MallocSpec spec = parse_malloc_spec(item);
  if (spec.path.empty() && spec.name == "all")
    throw MallocUnavailable("--malloc: 'all' is every process allocator, not one");
  if (spec.path.empty()) return *find_process_malloc(spec.name);
  return add_user_malloc(spec.name, spec.path);
}

std::vector<const ProcessMalloc*> register_malloc_file(const std::string& path) {
  std::vector<const ProcessMalloc*> added;
  for (const MallocSpec& spec : read_malloc_file(path))
    added.push_back(&add_user_malloc(spec.name, spec.path));
  return added;
}

void verify_process_malloc(const ProcessMalloc& m) {
  if (m.source == MallocSource::builtin) {
    preload_path(m);  // installed?
    return;
  }
  const std::string path(m.preload), where = "--malloc=" + std::string(m.name) + ": " + path;
  struct stat status {};
  if (stat(path.c_str(), &status) != 0)
    throw MallocUnavailable(where + ": " + std::strerror(errno));
  if (!S_ISREG(status.st_mode)) throw MallocUnavailable(where + " is not a regular file");
  if (access(path.c_str(), R_OK) != 0) throw MallocUnavailable(where + " is not readable");
  const MallocProbe probe = probe_malloc_library(path);
  if (!probe.loaded) {
    throw MallocUnavailable(
        where + " does not load as a library" +
        (probe.loader_message.empty() ? "" : " (" + probe.loader_message + ")"));
  }
  if (!probe.defines_malloc) throw MallocUnavailable(where + " exports no malloc");
  if (!same_file(probe.malloc_library, path)) {
    throw MallocUnavailable(where + " does not get malloc: preloaded, malloc resolves into " +
                            probe.malloc_library);
  }
  const bool libstdcxx = fs::path(probe.new_library).filename().string().rfind("libstdc++", 0) == 0;
  if (!same_file(probe.new_library, path) && !libstdcxx) {
    throw MallocUnavailable(where + ": preloaded, operator new resolves into " + probe.new_library +
                            ", neither it nor libstdc++");
  }
}

MallocProbe probe_malloc_library(const std::string& path) {
  const std::string where = "--malloc: " + path;
  const auto [output, status] = run_probe_child(path, where);
  const std::string last = last_foreign_line(output);
  if (WIFSIGNALED(status)) {
    throw MallocUnavailable(where + ": the probe with it preloaded died of signal " +
                            std::to_string(WTERMSIG(status)) + (last.empty() ? "" : ": " + last));
  }
  if (WEXITSTATUS(status) != 0) {
    throw MallocUnavailable(where + ": the probe with it preloaded exited " +
                            std::to_string(WEXITSTATUS(status)) +
                            (last.empty() ? "" : ": " + last));
  }
  MallocProbe probe;
  int answers = 0;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    constexpr std::string_view kIgnored = "cannot be preloaded (";
    if (const auto at = line.find(kIgnored); at != std::string::npos) {
      const auto reason = line.substr(at + kIgnored.size());
      probe.loader_message = reason.substr(0, reason.rfind("): ignored"));
    }
    if (line.rfind(kProbeLine, 0) != 0) continue;
    std::istringstream fields(line.substr(kProbeLine.size()));
    std::string key, value;
    fields >> key;
    std::getline(fields >> std::ws, value);
    answers +=
        key == "loaded" || key == "defines-malloc" || key == "malloc" || key == "operator-new";
    if (key == "loaded") probe.loaded = value == "1";
    if (key == "defines-malloc") probe.defines_malloc = value == "1";
    if (key == "malloc") probe.malloc_library = value;
    if (key == "operator-new") probe.new_library = value;
  }
  if (answers != 4)
    throw MallocUnavailable(
        where + ": the probe with it preloaded did not answer: " + quoted_for_message(last));
  return probe;
}

std::optional<int> run_malloc_probe_if_asked(int argc, char** argv) {
  if (argc != 3 || argv[1] != kMallocProbeFlag) return std::nullopt;
  struct Search {
    std::string path;
    std::string loaded;  // the name of the loaded object that is that file
  } search{argv[2], ""};
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto& s = *static_cast<Search*>(data);
        if (info->dlpi_name != nullptr && *info->dlpi_name != '\0' &&
            same_file(info->dlpi_name, s.path))
          s.loaded = info->dlpi_name;
        return s.loaded.empty() ? 0 : 1;
      },
      &search);
  const bool defines = !search.loaded.empty() && library_defines(search.loaded, "malloc");
  std::printf("%.*sloaded %d\n", int(kProbeLine.size()), kProbeLine.data(), !search.loaded.empty());
  std::printf("%.*sdefines-malloc %d\n", int(kProbeLine.size()), kProbeLine.data(), defines);
  std::printf("%.*smalloc %s\n", int(kProbeLine.size()), kProbeLine.data(),
              library_of(dlsym(RTLD_DEFAULT, "malloc")).c_str());
  std::printf("%.*soperator-new %s\n", int(kProbeLine.size()), kProbeLine.data(),
              library_of(dlsym(RTLD_DEFAULT, "_Znwm")).c_str());
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace mga
