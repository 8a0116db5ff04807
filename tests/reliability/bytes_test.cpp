// The bytes a run trains on (issue 21, item 2):
//  - every worker process trains on the bytes the parent read: a worker reads
//    the dataset again by its path, and one that finds other bytes there
//    refuses ("the dataset changed during the run") instead of training on
//    them under the parent's num_docs, or failing as if the policies differed.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "tests/reliability/bench_cli.hpp"

namespace {

using namespace mga::test;
namespace fs = std::filesystem;

const std::string kBaseline(mga::policy_with(&mga::PolicyTraits::baseline));

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

}  // namespace
