#include "bench/output_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

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
  std::string target = path;
  struct stat info {};
  if (lstat(path.c_str(), &info) == 0 && S_ISLNK(info.st_mode)) {
    char* resolved = realpath(path.c_str(), nullptr);
    if (resolved == nullptr) throw cannot_write(path, "it is a symbolic link to nothing");
    target = resolved;
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
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw fail(std::strerror(errno));
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      close(fd);
      throw fail(std::strerror(error));
    }
    written += std::size_t(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) throw fail(std::strerror(errno));
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
