// The README's policy example satisfies the contract and trains exactly as the
// registered policies do: the same losses and samples as `arena`.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "allocators/arena.hpp"
#include "core/train.hpp"
#include "readme_policy.hpp"

namespace mga {
namespace {

static_assert(AllocationPolicy<MallocEachPolicy>);

std::vector<std::string> printed_by(auto train) {
  std::vector<std::string> lines;
  train([&](const std::string& line) { lines.push_back(line); });
  return lines;
}

TEST(ReadmeExample, TrainsAsEveryPolicyDoes) {
  const Dataset data = parse_dataset("emma\nolivia\nava\nisabella\nsophia\nliam\nnoah\noliver\n");
  RunConfig config;
  config.steps = 5;
  config.samples = 3;
  RunResult example_run;
  const auto example = printed_by([&](const LineSink& print) {
    example_run = run_microgpt<MallocEachPolicy>(data, config, print);
  });
  const auto arena =
      printed_by([&](const LineSink& print) { run_microgpt<ArenaPolicy>(data, config, print); });
  EXPECT_EQ(example, arena);
  // One allocation and one free per node of the training steps.
  EXPECT_EQ(example_run.train_alloc.allocations, example_run.train_nodes);
  EXPECT_EQ(example_run.train_alloc.frees, example_run.train_nodes);
}

}  // namespace
}  // namespace mga
