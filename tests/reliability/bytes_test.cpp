// The bytes a run trains on and the bytes it prints (issue 21, items 2 and 8):
//  - every worker process trains on the bytes the parent read: a worker reads
//    the dataset again by its path, and one that finds other bytes there
//    refuses ("the dataset changed during the run") instead of training on
//    them under the parent's num_docs, or failing as if the policies differed;
//  - stdout holds exactly the bytes that are hashed (a NUL in a sampled name
//    cut the line while the hash covered it);
//  - a listing that cannot be written is a failure.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "tests/reliability/bench_cli.hpp"

namespace {

using namespace mga::test;
namespace fs = std::filesystem;

const std::string kBaseline(mga::policy_with(mga::Role::baseline));

// /proc/self/status holds other bytes in every process that reads it (its pid,
// its memory): to the workers it is a dataset replaced after the parent read it.
TEST(Bytes, WorkersTrainOnTheBytesTheParentRead) {
  TempDir dir;
  const std::string json = dir / "out.json";
  for (const std::vector<std::string>& cells :
       {std::vector<std::string>{"--allocator", kBaseline, "--repeat", "2"},
        std::vector<std::string>{"--allocator", "all"},
        std::vector<std::string>{"--threads", "2"}}) {
    SCOPED_TRACE(cells[0] + " " + cells[1]);
    std::vector<std::string> args = small_run("/proc/self/status", {"--json", json, "--quiet"});
    args.insert(args.end(), cells.begin(), cells.end());
    auto r = bench(args);
    expect_refused(r, kRuntimeFailure, "the dataset changed during the run");
    EXPECT_EQ(r.err.find("compute the same thing"), std::string::npos);
    EXPECT_FALSE(fs::exists(json));
  }
  // The same bytes in every process: the workers train.
  auto r = bench(small_run(dir.write("names.txt", kNames),
                           {"--allocator", kBaseline, "--repeat", "2", "--quiet"}));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
}

std::uint64_t fnv1a(const std::string& bytes) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

// Names of NUL and 'a': the samples are full of NULs.
TEST(Bytes, StdoutIsWhatIsHashed) {
  TempDir dir;
  const std::string data = dir.write("nul.txt", std::string("\0a\n\0\0\na\0\n\0a\0\n", 13));
  const std::string json = dir / "out.json";
  auto r = bench(small_run(data, {"--samples", "10", "--json", json}));
  expect_success(r);
  const std::string printed = microgpt_output(r);  // each line with its newline
  ASSERT_NE(printed.find(std::string("sample  1: ")), std::string::npos) << printed;
  EXPECT_GE(std::count(printed.begin(), printed.end(), '\0'), 5) << "the samples hold NULs";
  EXPECT_NE(slurp(json).find("\"output_fnv1a64\": \"" + std::to_string(fnv1a(printed)) + "\""),
            std::string::npos)
      << "stdout is not what was hashed";
}

TEST(Bytes, ListThatCannotBeWrittenFails) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--list-allocators"},
        std::vector<std::string>{"--list-allocators", "--format=json"}}) {
    SCOPED_TRACE(args.back());
    expect_refused(bench(args, {.stdout_path = "/dev/full"}), kRuntimeFailure, "standard output");
  }
}

}  // namespace
