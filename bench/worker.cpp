#include "bench/worker.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "bench/noise.hpp"
#include "bench/record.hpp"
#include "bench/text.hpp"

extern char** environ;

namespace mga {

namespace {

// ---- signals -------------------------------------------------------------------

constexpr int kForwardedSignals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGALRM, SIGUSR1, SIGUSR2};

// The running worker, for the signal handler; 0 when there is none.
volatile sig_atomic_t g_worker_pid = 0;

// Forwards the signal to the worker, waits for it to die, then dies of the
// same signal. Only async-signal-safe calls.
void on_termination_signal(int sig) {
  const pid_t worker = g_worker_pid;
  if (worker > 0) {
    kill(worker, sig);
    kill(worker, SIGCONT);  // a stopped worker must run to die
    while (waitpid(worker, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);  // delivered when the handler returns (the signal is blocked until then)
}

sigset_t forwarded_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwardedSignals) sigaddset(&set, sig);
  return set;
}

// Once per process. A signal ignored when bench_train started (nohup's SIGHUP,
// a background job's SIGINT) stays ignored, as the shell intended; the worker
// inherits that too.
void install_signal_forwarding() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  for (int sig : kForwardedSignals) {
    struct sigaction current {};
    sigaction(sig, nullptr, &current);
    if (current.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = on_termination_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    sigaction(sig, &action, nullptr);
  }
}

// ---- starting --------------------------------------------------------------------

// This process's environment with `extra` added; an entry of `extra` replaces
// one of the same name.
std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool overridden = false;
    for (const auto& x : extra) overridden = overridden || name_of(x) == name_of(entry);
    if (!overridden) merged.push_back(entry);
  }
  merged.insert(merged.end(), extra.begin(), extra.end());
  return merged;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

// A pipe whose ends are close-on-exec and above the standard streams.
void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw WorkerError(std::string("cannot start a worker: pipe: ") + std::strerror(errno));
  for (int i = 0; i < 2; ++i) {
    if (fds[i] <= STDERR_FILENO) {
      const int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
      close(fds[i]);
      fds[i] = moved;
    }
  }
}

// The child between fork and exec: async-signal-safe calls only.
[[noreturn]] void become_worker(pid_t parent, int out, int err, const sigset_t& mask,
                                char* const argv[], char* const envp[]) {
  g_worker_pid = 0;
  for (int sig : kForwardedSignals) {
    struct sigaction current {};
    sigaction(sig, nullptr, &current);
    if (current.sa_handler != SIG_IGN) signal(sig, SIG_DFL);
  }
  sigprocmask(SIG_SETMASK, &mask, nullptr);
  // Die with the parent; if it died before this line, it is no longer our parent.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
  const int in = open("/dev/null", O_RDONLY);
  if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
      dup2(err, STDERR_FILENO) < 0)
    _exit(126);
  execve("/proc/self/exe", argv, envp);
  _exit(127);
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// The last non-empty line of a worker's stderr, without our program's prefix.
std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  text = text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  const std::string prefix = "bench_train: ";
  if (text.rfind(prefix, 0) == 0) text = text.substr(prefix.size());
  return one_line(text);
}

}  // namespace

void open_standard_streams() {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    const int opened = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
    if (opened >= 0 && opened != fd) {  // the lowest free number is fd itself
      dup2(opened, fd);
      close(opened);
    }
  }
}

std::string run_worker_process(const std::string& label, const std::vector<std::string>& args,
                               const std::vector<std::string>& extra_env,
                               const WorkerLimits& limits) {
  std::vector<std::string> arg_strings = args;
  std::vector<std::string> env_strings = merged_environment(extra_env);
  std::vector<char*> argv = pointers(arg_strings);
  std::vector<char*> envp = pointers(env_strings);
  const std::string who = "worker " + label;

  install_signal_forwarding();
  int out[2], err[2];
  make_pipe(out);
  try {
    make_pipe(err);
  } catch (...) {
    close(out[0]), close(out[1]);
    throw;
  }
  // Signals wait until the worker's pid is known, so the handler always sees it.
  const sigset_t forwarded = forwarded_set();
  sigset_t previous;
  sigprocmask(SIG_BLOCK, &forwarded, &previous);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) become_worker(parent, out[1], err[1], previous, argv.data(), envp.data());
  const int fork_error = errno;
  if (pid > 0) g_worker_pid = pid;
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(out[0]), close(err[0]);
    throw WorkerError("cannot start " + who + ": " + std::strerror(fork_error));
  }

  // Read both pipes until the worker closes them (it exits), within the limits.
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(limits.timeout_seconds));
  std::string output, errors, failure;
  // Milliseconds to the deadline (-1: none); sets `failure` once it has passed.
  auto time_left = [&]() -> int {
    if (limits.timeout_seconds <= 0) return -1;
    const auto left = std::chrono::duration<double, std::milli>(deadline - Clock::now()).count();
    if (left > 0) return int(std::min(left + 1, 60'000.0));
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", limits.timeout_seconds);
    failure =
        "did not finish within " + std::string(seconds) + " s (--worker-timeout) and was killed";
    return 0;
  };
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_pipes = 2;
  while (open_pipes > 0 && failure.empty()) {
    const int wait_ms = time_left();
    if (!failure.empty()) break;
    if (poll(fds, 2, wait_ms) < 0 && errno != EINTR) {
      failure = std::string("could not be read: ") + std::strerror(errno);
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
        continue;
      }
      if (i == 0) {
        output.append(buffer, std::size_t(n));
        if (output.size() > limits.max_output_bytes) {
          failure = "printed more than " + std::to_string(limits.max_output_bytes) +
                    " bytes and was killed";
        }
      } else {
        errors.append(buffer, std::size_t(n));
        if (errors.size() > 65536) errors.erase(0, errors.size() - 65536);  // keep the end
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  // A worker that closed its pipes may still run: the deadline holds until it exits.
  siginfo_t info{};
  while (failure.empty() && limits.timeout_seconds > 0) {
    info.si_pid = 0;
    if (waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0 && info.si_pid == pid)
      break;
    if (time_left() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!failure.empty()) kill(pid, SIGKILL);
  // Wait without reaping, then reap with signals held: until g_worker_pid is
  // cleared the pid stays a zombie of ours, so the handler never signals a
  // process that reused it.
  while (waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  sigprocmask(SIG_BLOCK, &forwarded, &previous);
  int status = 0;
  waitpid(pid, &status, 0);
  g_worker_pid = 0;
  sigprocmask(SIG_SETMASK, &previous, nullptr);

  if (!failure.empty()) throw WorkerError(who + " " + failure);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string said = last_line(errors);
    throw WorkerError(who + " " + describe_status(status) + (said.empty() ? "" : ": " + said));
  }
  if (!errors.empty()) std::fwrite(errors.data(), 1, errors.size(), stderr);
  return output;
}

// ---- fault injection ---------------------------------------------------------------

std::string worker_fault_for_run(int run) {
  const char* value = std::getenv(kWorkerFaultVariable);
  if (value == nullptr || *value == '\0') return "";
  const std::string spec = value;
  const auto at = spec.find('@');
  const std::string kind = spec.substr(0, at);
  const bool known = kind == "crash" || kind == "exit" || kind == "hang" || kind == "mute" ||
                     kind == "garbage" || kind == "flood" || kind == "differ" ||
                     kind == kSleepFault;
  char* end = nullptr;
  const long target = at == std::string::npos ? 0 : std::strtol(spec.c_str() + at + 1, &end, 10);
  if (!known || target < 1 || end == nullptr || *end != '\0') {
    throw WorkerError(
        std::string(kWorkerFaultVariable) + "='" + one_line(spec) +
        "': expected KIND@RUN, KIND one of crash, exit, hang, mute, garbage, flood, differ, " +
        kSleepFault);
  }
  return target == run ? kind : "";
}

void emit_worker_record(Measurement m, const std::string& fault) {
  if (fault == "crash") {
    const rlimit no_core{0, 0};  // no core file left behind by a test
    setrlimit(RLIMIT_CORE, &no_core);
    raise(SIGABRT);  // not SIGSEGV: AddressSanitizer would catch that and exit 1
  }
  if (fault == "exit") {
    std::fprintf(stderr, "bench_train: injected failure (%s)\n", kWorkerFaultVariable);
    std::exit(1);
  }
  if (fault == "hang" || fault == "mute") {
    if (fault == "mute") close(STDOUT_FILENO), close(STDERR_FILENO);
    for (;;) pause();
  }
  if (fault == "garbage") {
    std::printf("mga-record this is not a record\n");
    return;
  }
  if (fault == "flood") {
    const std::string line(1023, 'x');
    for (int i = 0; i < 2048; ++i) std::printf("%s\n", line.c_str());
    return;
  }
  if (fault == "differ") {  // as if it had printed other bytes (its last replica too)
    m.output_hash ^= 1;
    if (!m.replicas.empty()) m.replicas.back().output_hash ^= 1;
  }
  std::printf("%s\n", to_record(m).c_str());
}

}  // namespace mga
