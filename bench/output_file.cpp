#include "bench/output_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace mga {

namespace {

std::runtime_error cannot_write(const std::string& path, const std::string& why) {
  return std::runtime_error("cannot write " + path + ": " + why);
}

// ".<start of the name>.<pid>.<n>.tmp" beside `path`: at most about 70 bytes,
// so any valid name has a valid temporary name.
std::string temporary_beside(const std::string& path) {
  static unsigned counter = 0;
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string name = path.substr(dir.size(), 40);
  // Cut at a character boundary: no half UTF-8 sequence in the name.
  while (name.size() < path.size() - dir.size() && !name.empty() &&
         (static_cast<unsigned char>(path[dir.size() + name.size()]) & 0xc0) == 0x80)
    name.pop_back();
  return dir + "." + name + "." + std::to_string(getpid()) + "." + std::to_string(++counter) +
         ".tmp";
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// The signals that end a run from outside (a terminal, `timeout`, a job
// scheduler); held back while a result file is being put in place.
sigset_t termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGALRM, SIGUSR1, SIGUSR2})
    sigaddset(&set, sig);
  return set;
}

}  // namespace

std::string check_output_file(const std::string& path, const std::vector<std::string>& inputs) {
  if (path.empty()) throw std::runtime_error("cannot write results to an empty path");
  if (path == "-") {
    throw cannot_write(path,
                       "'-' is not standard output here (standard output carries the "
                       "table); give a file path");
  }
  std::string target = path;
  struct stat info {};
  if (lstat(path.c_str(), &info) == 0 && S_ISLNK(info.st_mode)) {
    // A link into /proc (/dev/stdout on a pipe) names a file without a path:
    // stat still sees it, and it is refused below as what it is.
    char* resolved = realpath(path.c_str(), nullptr);
    if (resolved == nullptr && stat(path.c_str(), &info) != 0)
      throw cannot_write(path, "it is a symbolic link to nothing");
    if (resolved != nullptr) target = resolved;
    std::free(resolved);
  }
  if (stat(target.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) throw cannot_write(path, "is a directory");
    if (!S_ISREG(info.st_mode)) {
      throw cannot_write(path,
                         "not a regular file (only a regular file or a new path is replaced)");
    }
    for (const auto& input : inputs) {
      struct stat input_info {};
      if (stat(input.c_str(), &input_info) == 0 && same_file(info, input_info))
        throw cannot_write(path, "it is this run's input " + input);
    }
    // Replaced by rename, the file the output goes to would keep the table
    // and lose the JSON (or the other way round).
    const std::pair<int, const char*> streams[] = {{STDOUT_FILENO, "output"},
                                                   {STDERR_FILENO, "error"}};
    for (const auto& [fd, name] : streams) {
      struct stat stream {};
      if (fstat(fd, &stream) == 0 && same_file(info, stream))
        throw cannot_write(path, std::string("it is this run's standard ") + name);
    }
  } else if (errno != ENOENT) {
    throw cannot_write(path, std::strerror(errno));
  }
  // Can a file be made beside it (the temporary file of the atomic write)?
  const std::string probe = temporary_beside(target);
  const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw cannot_write(path, std::strerror(errno));
  close(fd);
  unlink(probe.c_str());
  return target;
}

void ignore_file_size_limit() {
  signal(SIGXFSZ, SIG_IGN);
}

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string temp = temporary_beside(path);
  const sigset_t held = termination_signals();
  sigset_t previous;
  sigprocmask(SIG_BLOCK, &held, &previous);
  auto fail = [&](const std::string& why) {
    unlink(temp.c_str());
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    return cannot_write(path, why);
  };
  // A file that is replaced keeps its permissions; a new one gets the umask's.
  struct stat existing {};
  const bool replacing = stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode);
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw fail(std::strerror(errno));
  int error = 0;
  if (replacing && fchmod(fd, existing.st_mode & 07777) != 0) error = errno;
  for (std::size_t written = 0; error == 0 && written < content.size();) {
    const ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = errno;
    if (n == 0) error = EIO;  // a regular file that takes nothing more
    if (n > 0) written += std::size_t(n);
  }
  if (error == 0 && fsync(fd) != 0) error = errno;
  if (close(fd) != 0 && error == 0) error = errno;
  if (error != 0) throw fail(std::strerror(error));
  // Checked again: the path may have changed since check_output_file.
  struct stat info {};
  if (stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode))
    throw fail("not a regular file (only a regular file or a new path is replaced)");
  // A signal that came while writing: the run was stopped, so no result.
  sigset_t pending;
  sigpending(&pending);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&held, sig) == 1 && sigismember(&pending, sig) == 1 &&
        sigismember(&previous, sig) != 1)
      throw fail("interrupted by signal " + std::to_string(sig));  // unblocking delivers it
  }
  if (rename(temp.c_str(), path.c_str()) != 0) throw fail(std::strerror(errno));
  sigprocmask(SIG_SETMASK, &previous, nullptr);
}

}  // namespace mga
