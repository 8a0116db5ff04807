// The worker protocol of --allocator=all and --repeat (issue 12, defects 4 and
// 7, and the fault-injection test; issue 13's differing output):
//  - a signal to bench_train alone (as `timeout` or a job scheduler sends it)
//    ends its worker too, and bench_train dies of that signal, writing no JSON;
//  - so does SIGKILL, through PR_SET_PDEATHSIG;
//  - closed standard streams at start do not break the workers;
//  - a worker that crashes, fails, hangs past --worker-timeout, prints garbage
//    or too much, or reports a different output, is one stderr line, exit 1,
//    and no JSON. Faults come from MGA_WORKER_FAULT (bench/worker.hpp).
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "allocators/registry.hpp"
#include "tests/reliability/bench_cli.hpp"

namespace {

using namespace mga::test;
namespace fs = std::filesystem;

// The live (not zombie) children of `parent`, from /proc.
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  while (dirent* entry = readdir(proc)) {
    const pid_t pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) continue;
    std::istringstream rest(line.substr(line.rfind(')') + 2));  // after "pid (comm) "
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') children.push_back(pid);
  }
  closedir(proc);
  return children;
}

bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) return false;
  return line[line.rfind(')') + 2] != 'Z';
}

template <class Condition>
bool wait_for(Condition&& condition, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

// Orphans come to this process (a subreaper), so a worker left behind by
// bench_train is seen, and killed and reaped at the end of the test.
class WorkerLifetime : public ::testing::Test {
 protected:
  void SetUp() override { prctl(PR_SET_CHILD_SUBREAPER, 1); }
  void TearDown() override {
    for (pid_t orphan : children_of(getpid())) kill(orphan, SIGKILL);
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
  }

  // Starts a long --allocator=all run, waits for its first worker, sends
  // `sig` to bench_train alone and checks that both are gone.
  void check_signal_ends_the_worker(int sig) {
    TempDir dir;
    const std::string json = dir / "out.json";
    Child parent =
        start_process({bench_train_path(), "--data", dir.write("names.txt", kNames), "--allocator",
                       "all", "--steps", "1000000", "--samples", "0", "--quiet", "--json", json},
                      {.timeout_seconds = 30});
    std::vector<pid_t> workers;
    ASSERT_TRUE(wait_for([&] { return !(workers = children_of(parent.pid)).empty(); }, 20))
        << "no worker started";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it exec and train
    ASSERT_EQ(kill(parent.pid, sig), 0);
    const ProcessResult r = finish_process(parent);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.signal, sig) << "bench_train must die of the signal: " << describe(r);
    EXPECT_TRUE(wait_for([&] { return !alive(workers[0]); }, 5))
        << "worker " << workers[0] << " outlived bench_train";
    EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"names.txt"})) << "no JSON";
  }
};

TEST_F(WorkerLifetime, SigtermToTheParentEndsTheWorker) {
  check_signal_ends_the_worker(SIGTERM);
}
TEST_F(WorkerLifetime, SighupToTheParentEndsTheWorker) {
  check_signal_ends_the_worker(SIGHUP);
}
TEST_F(WorkerLifetime, SigintToTheParentEndsTheWorker) {
  check_signal_ends_the_worker(SIGINT);
}
TEST_F(WorkerLifetime, SigkillToTheParentEndsTheWorker) {
  check_signal_ends_the_worker(SIGKILL);
}

// Defect 7: with stdout closed, pipe() took fd 1 and the workers broke.
TEST(WorkerStreams, ClosedStandardStreamsAreHandled) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::vector<std::vector<int>> cases = {{0}, {1}, {2}, {0, 1, 2}};
  for (const auto& closed : cases) {
    std::string label;
    for (int fd : closed) label += std::to_string(fd) + " ";
    SCOPED_TRACE("closed: " + label);
    const std::string json = dir / "out.json";
    auto r = bench(small_run(data, {"--allocator", "all", "--quiet", "--json", json}),
                   {.closed_fds = closed});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(slurp(json).rfind("{", 0), 0U);
    fs::remove(json);
  }
}

// ---- fault injection ---------------------------------------------------------------

struct FaultCase {
  std::string fault;               // MGA_WORKER_FAULT
  std::vector<std::string> extra;  // options besides the small run's
  std::string needle;              // in the one stderr line
};

// GoogleTest prints a parameter it cannot print as its raw bytes in every test's name line.
void PrintTo(const FaultCase& c, std::ostream* out) {
  *out << c.fault;
}

class WorkerFaults : public ::testing::TestWithParam<FaultCase> {};

TEST_P(WorkerFaults, AreOneLineAndNoJson) {
  const FaultCase& c = GetParam();
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::string json = dir / "out.json";
  std::vector<std::string> extra = {"--quiet", "--json", json};
  extra.insert(extra.end(), c.extra.begin(), c.extra.end());
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  auto r = bench(small_run(data, extra),
                 {.timeout_seconds = 60, .environment = {"MGA_WORKER_FAULT=" + c.fault}});
  expect_refused(r, kRuntimeFailure, c.needle);
  EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"names.txt"})) << "no JSON";
  EXPECT_TRUE(children_of(getpid()).empty()) << "a worker was left behind";
  for (pid_t orphan : children_of(getpid())) kill(orphan, SIGKILL);
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  EXPECT_LT(r.seconds, 30.0);
}

const std::vector<std::string> kAll = {"--allocator", "all"};

// What the parent says of the run-th worker of --allocator=all: the policies
// run in the registry's order, one worker each.
std::string all_worker(int run) {
  const auto names = mga::policy_names();
  return "worker " + names[std::size_t(run - 1)] + " (run " + std::to_string(run) + " of " +
         std::to_string(names.size()) + ")";
}

INSTANTIATE_TEST_SUITE_P(
    Protocol, WorkerFaults,
    ::testing::Values(
        FaultCase{"crash@2", kAll, all_worker(2) + " was killed by signal 6 (Aborted)"},
        FaultCase{"exit@1", kAll, all_worker(1) + " exited with status 1: injected"},
        FaultCase{"hang@3",
                  {"--allocator", "all", "--worker-timeout", "1"},
                  all_worker(3) + " did not finish within 1 s"},
        FaultCase{"mute@2",
                  {"--allocator", "all", "--worker-timeout", "1"},
                  all_worker(2) + " did not finish within 1 s"},
        FaultCase{"garbage@1", kAll, "printed no valid record"},
        FaultCase{"flood@1", kAll, "printed more than 1048576 bytes"},
        FaultCase{"crash@1", {"--engine", "tape", "--repeat", "2"}, "worker tape (run 1 of 2)"},
        // issue 13: a differing output is an error, in both modes that compare runs
        FaultCase{"differ@2", kAll, "output differs"},
        FaultCase{"differ@1", kAll, "output differs"},
        FaultCase{
            "differ@3",
            {"--allocator", std::string(mga::policy_with(mga::Role::baseline)), "--repeat", "3"},
            "output differs"},
        FaultCase{"differ@2", {"--engine", "tape", "--repeat", "2"}, "output differs"},
        FaultCase{"melt@1", kAll, "MGA_WORKER_FAULT"}),
    [](const auto& info) {
      std::string name = info.param.fault + "_" + std::to_string(info.index);
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

// A fault aimed at a run that does not exist changes nothing: the hook is inert.
TEST(WorkerFaultsInert, FaultForAnotherRunChangesNothing) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::string past_the_last = std::to_string(mga::policy_names().size() + 1);
  auto r = bench(small_run(data, {"--allocator", "all", "--quiet"}),
                 {.environment = {"MGA_WORKER_FAULT=crash@" + past_the_last}});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("output: identical in every run"), std::string::npos);
}

}  // namespace
