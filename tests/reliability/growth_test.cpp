// Every policy under a model whose step graph is hundreds of MiB (n_embd 128,
// 4 layers): each step's memory must come back, either every node freed within
// the step or chunks reused. Arena and pool must grow past their first
// chunk/block, train, and then reuse that memory, so every step after the first
// asks the system for nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "allocators/registry.hpp"
#include "core/train.hpp"
#include "tests/policy_types.hpp"

namespace {

// Every name has the same length, so every step builds a graph of the same size
// and memory in use must return to the same level after each one.
mga::Dataset equal_length_names() {
  return mga::parse_dataset("ab\ncd\nea\nbf\ngc\nhd\n");
}

mga::RunConfig big_model(int steps) {
  mga::RunConfig config;
  config.model = {.n_embd = 128, .n_head = 4, .n_layer = 4, .block_size = 16};
  config.steps = steps;
  config.samples = 0;
  return config;
}

template <class Policy>
mga::RunResult train(int steps, int n_embd = 128, int n_layer = 4) {
  int lines = 0;
  mga::RunConfig config = big_model(steps);
  config.model.n_embd = n_embd;
  config.model.n_layer = n_layer;
  return mga::run_microgpt<Policy>(equal_length_names(), config,
                                   [&](const std::string&) { ++lines; });
}

template <class Policy>
void check_growth_then_reuse(std::uint64_t unit_bytes) {
  const mga::RunResult one = train<Policy>(1);
  const mga::RunResult three = train<Policy>(3);
  SCOPED_TRACE(std::string(Policy::name));

  ASSERT_EQ(three.losses.size(), 3U);
  for (double loss : three.losses) EXPECT_TRUE(std::isfinite(loss)) << loss;
  EXPECT_EQ(one.losses[0], three.losses[0]);

  // The first step's graph needs far more than one chunk (arena) or block (pool).
  const double node_bytes = double(one.train_nodes) * sizeof(mga::Node);
  EXPECT_GT(node_bytes, 100.0 * (1 << 20)) << "the step graph should be > 100 MiB";
  EXPECT_GT(one.train_alloc.allocations, 100U);
  EXPECT_GE(double(one.train_alloc.bytes), node_bytes);
  EXPECT_EQ(one.train_alloc.bytes, one.train_alloc.allocations * unit_bytes);

  // Steps 2 and 3 build graphs of the same size and get all of it from the
  // memory step 1 obtained: no further chunk or block is allocated.
  EXPECT_EQ(three.train_nodes, 3 * one.train_nodes);
  EXPECT_EQ(three.train_alloc.allocations, one.train_alloc.allocations);
  EXPECT_EQ(three.train_alloc.bytes, one.train_alloc.bytes);
}

TEST(ArenaPoolGrowth, ArenaGrowsPastOneChunkThenReuses) {
  check_growth_then_reuse<mga::ArenaPolicy>(mga::ArenaPolicy::kNodesPerChunk * sizeof(mga::Node));
}

TEST(ArenaPoolGrowth, PoolGrowsPastOneBlockThenReuses) {
  check_growth_then_reuse<mga::PoolPolicy>(mga::PoolBackend::kBlockBytes);
}

using mga::testing_support::AllPolicyTypes;
using mga::testing_support::PolicyNames;

template <class Policy>
class Growth : public ::testing::Test {};
TYPED_TEST_SUITE(Growth, AllPolicyTypes, PolicyNames);

// Every registered policy: the same losses as the baseline, and no step keeps
// memory from the one before (asked afresh and given back, or reused). A
// smaller model (a step is still several MiB, past an arena's first chunk), so
// that it stays quick for every policy, sanitizers included.
TYPED_TEST(Growth, EveryStepGivesBackOrReusesItsMemory) {
  auto train_small = [](int steps) { return train<TypeParam>(steps, 32, 2); };
  static const mga::RunResult baseline = train<mga::BaselinePolicy>(3, 32, 2);
  const mga::RunResult one = train_small(1);
  const mga::RunResult three = train_small(3);
  EXPECT_GT(double(one.train_nodes) * sizeof(mga::Node), 2.0 * (1 << 20));
  EXPECT_EQ(three.losses, baseline.losses);
  EXPECT_EQ(one.losses[0], three.losses[0]);
  EXPECT_EQ(three.train_nodes, 3 * one.train_nodes);
  const mga::AllocStats& first = one.train_alloc;
  const mga::AllocStats& all = three.train_alloc;
  if (first.allocations == one.train_nodes) {  // one allocator call per node
    EXPECT_EQ(all.allocations, 3 * first.allocations);
    if constexpr (TypeParam::traits.frees_per_node) {
      EXPECT_EQ(all.frees, all.allocations) << "every node is freed within its step";
    } else {
      EXPECT_EQ(all.frees, 3U) << "one release per step frees the step's nodes";
    }
  } else {  // chunks: grown in the first step, reused by the others
    EXPECT_LT(first.allocations, one.train_nodes / 100);
    EXPECT_EQ(all.allocations, first.allocations);
    EXPECT_EQ(all.bytes, first.bytes);
  }
}

TEST(ArenaPoolGrowth, ArenaAndPoolComputeTheSameLosses) {
  const auto arena = train<mga::ArenaPolicy>(2);
  const auto pool = train<mga::PoolPolicy>(2);
  EXPECT_EQ(arena.losses, pool.losses);
}

}  // namespace
