// Runs a program in a child process with a time limit and captures its output;
// the reliability tests use it to drive the real bench_train binary.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace mga::test {

struct ProcessResult {
  int exit_code = -1;  // -1 unless the child exited normally
  int signal = 0;      // the signal that killed it, 0 if none
  bool timed_out = false;
  double seconds = 0;
  std::string out, err;
};

struct RunOptions {
  double timeout_seconds = 60;
  unsigned long long address_space_limit = 0;  // RLIMIT_AS in bytes, 0 = unlimited
  unsigned long long file_size_limit = 0;      // RLIMIT_FSIZE in bytes (ulimit -f), 0 = unlimited
  std::string stdout_path;                     // where stdout goes instead of being captured
  std::string working_directory;               // "" = the test's
  std::vector<std::string> environment;        // "NAME=value" set in the child, "NAME" unset
  std::vector<int> closed_fds;                 // standard streams the child starts without
  bool drop_root = false;  // run as nobody when the test runs as root (permissions then bind)
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "mga-reliability-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code error;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, error);
    std::filesystem::remove_all(path_, error);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::string file = *this / name;
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  std::filesystem::path path_;
};

// A child started by start_process, to be waited for by finish_process.
struct Child {
  pid_t pid = -1;
  std::chrono::steady_clock::time_point start;
  RunOptions options;
  std::unique_ptr<TempDir> dir;  // its captured stdout and stderr
};

// Starts `argv` (argv[0] is the program path) with stdin from /dev/null and the
// termination signals at their defaults (a test runner may ignore some).
inline Child start_process(const std::vector<std::string>& argv, const RunOptions& options = {}) {
  Child child{-1, std::chrono::steady_clock::now(), options, std::make_unique<TempDir>()};
  const std::string out_path = *child.dir / "stdout", err_path = *child.dir / "stderr";
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  child.pid = fork();
  if (child.pid < 0) std::abort();
  if (child.pid == 0) {
    for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGXFSZ}) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int in = open("/dev/null", O_RDONLY);
    const std::string& out_file = options.stdout_path.empty() ? out_path : options.stdout_path;
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    for (int fd : {in, out, err}) {
      if (fd > STDERR_FILENO) close(fd);
    }
    for (int fd : options.closed_fds) close(fd);
    if (options.address_space_limit != 0) {
      rlimit limit{options.address_space_limit, options.address_space_limit};
      setrlimit(RLIMIT_AS, &limit);
    }
    if (options.file_size_limit != 0) {
      rlimit limit{options.file_size_limit, options.file_size_limit};
      setrlimit(RLIMIT_FSIZE, &limit);
    }
    for (const auto& entry : options.environment) {
      const auto eq = entry.find('=');
      if (eq == std::string::npos) {
        unsetenv(entry.c_str());
      } else {
        setenv(entry.substr(0, eq).c_str(), entry.substr(eq + 1).c_str(), 1);
      }
    }
    if (!options.working_directory.empty() && chdir(options.working_directory.c_str()) != 0)
      _exit(125);
    if (options.drop_root && geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
      _exit(124);
    execv(args[0], args.data());
    _exit(127);
  }
  return child;
}

// Waits for the child (killing it past its timeout) and collects its output.
inline ProcessResult finish_process(Child& child) {
  ProcessResult result;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(child.pid, &status, WNOHANG);
    if (done == child.pid) break;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - child.start).count();
    if (elapsed > child.options.timeout_seconds) {
      kill(child.pid, SIGKILL);
      waitpid(child.pid, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - child.start).count();
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.out = slurp(*child.dir / "stdout");
  result.err = slurp(*child.dir / "stderr");
  return result;
}

inline ProcessResult run_process(const std::vector<std::string>& argv,
                                 const RunOptions& options = {}) {
  Child child = start_process(argv, options);
  return finish_process(child);
}

}  // namespace mga::test
