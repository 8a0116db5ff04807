// --json (issue 12, defects 1, 2 and 8; issue 21): a run never writes over its
// own input or its standard output, replaces only a regular file or a missing
// path (keeping its permissions), keeps its temporary name within NAME_MAX,
// writes JSON that any reader can parse whatever bytes the paths hold, and
// writes nothing, not even a temporary file, when it fails.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "tests/reliability/bench_cli.hpp"

namespace {

using namespace mga::test;
namespace fs = std::filesystem;

// Defect 1: `cp names.txt v.txt; bench_train --data v.txt --json v.txt` replaced
// the dataset with JSON and exited 0.
TEST(OutputFile, NeverOverwritesTheDataset) {
  TempDir dir;
  const std::string data = dir.write("v.txt", kNames);
  fs::create_directories(dir.path() / "sub");
  fs::create_symlink(data, dir / "link.txt");
  fs::create_hard_link(data, dir / "hard.txt");
  const std::vector<std::string> spellings = {data, (dir.path() / "." / "v.txt").string(),
                                              (dir.path() / "sub" / ".." / "v.txt").string(),
                                              dir / "link.txt", dir / "hard.txt"};
  for (const auto& json : spellings) {
    for (const std::string& allocator :
         {std::string(mga::policy_with(mga::Role::baseline)), std::string("all")}) {
      SCOPED_TRACE(json + " with --allocator " + allocator);
      auto r = bench(small_run(data, {"--json", json, "--allocator", allocator}));
      expect_refused(r, kBadInput, "input");
      EXPECT_EQ(r.out.find("step"), std::string::npos) << "refused before training";
      EXPECT_EQ(slurp(data), kNames);
    }
  }
  // The data reached through a relative path from another working directory.
  auto r = bench({"--data", "v.txt", "--steps", "2", "--json", "./sub/../v.txt"},
                 {.working_directory = dir.path().string()});
  expect_refused(r, kBadInput, "input");
  EXPECT_EQ(slurp(data), kNames);
  EXPECT_EQ(entries(dir.path()),
            (std::vector<std::string>{"hard.txt", "link.txt", "sub", "v.txt"}));
}

// The program is an input too: --json must not replace the running binary.
TEST(OutputFile, NeverOverwritesTheProgram) {
  TempDir dir;
  const std::string copy = dir / "bench_train";
  fs::copy_file(bench_train_path(), copy);
  const std::string before = slurp(copy);
  auto r =
      run_process({copy, "--data", dir.write("names.txt", kNames), "--steps", "2", "--json", copy});
  expect_refused(r, kBadInput, "input");
  EXPECT_EQ(slurp(copy), before);
}

// Defect 2: only a regular file or a new path may be replaced. The atomic
// rename used to replace a FIFO, a socket or (as root) a device node.
TEST(OutputFile, ReplacesOnlyRegularFilesOrNewPaths) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::string fifo = dir / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string socket_path = dir / "socket";
  const int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  socket_path.copy(address.sun_path, sizeof address.sun_path - 1);
  ASSERT_EQ(bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  std::vector<std::string> targets = {fifo, socket_path};
  const std::string device = dir / "null";  // a copy of /dev/null: only root may make one
  if (mknod(device.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) targets.push_back(device);
  fs::create_symlink(dir / "nowhere.json", dir / "dangling");
  targets.push_back(dir / "dangling");
  for (const auto& target : targets) {
    SCOPED_TRACE(target);
    auto r = bench(small_run(data, {"--json", target}));
    expect_refused(r, kBadInput, "cannot write");
    EXPECT_FALSE(fs::is_regular_file(fs::symlink_status(target))) << "it was replaced";
  }
  close(sock);
  if (targets.size() < 5) std::cout << "(not root: the device-node case was skipped)\n";
}

TEST(OutputFile, EmptyJsonPathIsRefused) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  expect_refused(bench(small_run(data, {"--json", ""})), kBadInput, "--json");
  expect_refused(bench(small_run(data, {"--json="})), kBadInput, "--json");
}

// Defect 2: a valid 255-byte name was refused because ".tmp.<pid>" made the
// temporary name too long.
TEST(OutputFile, LongestValidNameIsWritten) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::string name = std::string(250, 'r') + ".json";
  ASSERT_EQ(name.size(), 255U);
  const std::string json = dir / name;
  expect_success(bench(small_run(data, {"--json", json})));
  EXPECT_EQ(slurp(json).rfind("{", 0), 0U);
  EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"names.txt", name}));
}

// A symbolic link to a results file: the file is replaced, the link stays.
TEST(OutputFile, WritesThroughASymbolicLink) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::string real = dir.write("real.json", "old\n");
  fs::create_symlink(real, dir / "link.json");
  expect_success(bench(small_run(data, {"--json", dir / "link.json"})));
  EXPECT_TRUE(fs::is_symlink(dir / "link.json"));
  EXPECT_EQ(slurp(real).rfind("{", 0), 0U);
}

// Defect 8: a path that is not UTF-8 made invalid JSON. Bytes that are not
// UTF-8 are written as Python's surrogateescape does, so Python gets them back.
TEST(OutputFile, JsonIsValidWhateverThePathHolds) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  TempDir dir;
  const std::string name =
      "n\xff\xfe"
      "ames\"\\\t.txt";
  const std::string data = dir.write(name, kNames);
  const std::string json = dir / "out.json";
  expect_success(bench(small_run(data, {"--json", json})));
  TempDir check;
  const std::string script = check.write("check.py", R"(import json, os, sys
with open(sys.argv[1], "rb") as f:
    report = json.loads(f.read().decode("utf-8"))  # strict UTF-8
print(os.fsencode(report["config"]["data"]) == os.fsencode(sys.argv[2]))
)");
  auto r = run_process({"/usr/bin/python3", script, json, data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "True\n") << r.err;
}

// Defect 8: with stdout failing the run exited 1 and still wrote the JSON.
TEST(OutputFile, NoJsonWhenStdoutFails) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::string json = dir / "out.json";
  for (const std::string& allocator :
       {std::string(mga::policy_with(mga::Role::baseline)), std::string("all")}) {
    SCOPED_TRACE(allocator);
    auto r = bench(small_run(data, {"--json", json, "--allocator", allocator, "--quiet"}),
                   {.stdout_path = "/dev/full"});
    expect_refused(r, kRuntimeFailure, "standard output");
    EXPECT_FALSE(fs::exists(json));
    EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"names.txt"}));
  }
}

// Issue 21, item 1: under `ulimit -f` the run died of SIGXFSZ (exit 153, no
// message) and left its temporary file behind.
TEST(OutputFile, FileSizeLimitIsOneLineAndNoTemporaryFile) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::vector<std::pair<std::string, unsigned long long>> cases = {
      {"all", 8192}, {std::string(mga::policy_with(mga::Role::baseline)), 1024}};
  for (const auto& [allocator, limit] : cases) {
    SCOPED_TRACE(allocator + " under a limit of " + std::to_string(limit) + " bytes");
    TempDir out;
    auto r = bench(small_run(data, {"--allocator", allocator, "--quiet", "--json", "out.json"}),
                   {.file_size_limit = limit,
                    .stdout_path = "/dev/null",  // a device: the limit binds the JSON only
                    .working_directory = out.path().string()});
    expect_refused(r, kRuntimeFailure, "cannot write out.json: File too large");
    EXPECT_EQ(entries(out.path()), std::vector<std::string>{});
  }
}

TEST(OutputFile, ReplacedFileKeepsItsPermissions) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::string json = dir.write("out.json", "old\n");
  for (const fs::perms mode : {fs::perms(0600), fs::perms(0640)}) {
    fs::permissions(json, mode);
    expect_success(bench(small_run(data, {"--json", json})));
    EXPECT_EQ(fs::status(json).permissions(), mode);
    EXPECT_EQ(slurp(json).rfind("{", 0), 0U);
  }
}

// '-' is refused (stdout carries the table), not made into a file named '-'.
TEST(OutputFile, DashIsRefused) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  for (const std::vector<std::string>& json :
       {std::vector<std::string>{"--json", "-"}, std::vector<std::string>{"--json=-"}}) {
    auto r = bench(small_run(data, json), {.working_directory = dir.path().string()});
    expect_refused(r, kBadInput, "standard output");
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"names.txt"});
  }
}

// /dev/stdout is refused for what it is: a pipe is "not a regular file" (it
// was "a symbolic link to nothing"), and a file would be replaced under the
// table being written to it.
TEST(OutputFile, DevStdoutIsRefusedForWhatItIs) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  auto to_file = bench(small_run(data, {"--json", "/dev/stdout"}));
  expect_refused(to_file, kBadInput, "it is this run's standard output");
  EXPECT_EQ(to_file.out, "");
  std::vector<std::string> piped = {"/bin/bash", "-c", "\"$@\" | cat; exit ${PIPESTATUS[0]}",
                                    "bash", bench_train_path()};
  for (const auto& arg : small_run(data, {"--json", "/dev/stdout"})) piped.push_back(arg);
  expect_refused(run_process(piped), kBadInput, "/dev/stdout: not a regular file");
}

}  // namespace
