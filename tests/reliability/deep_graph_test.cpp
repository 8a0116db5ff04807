// A 2,000,000-node chain for every policy: building it, backward() over it and
// freeing it must neither overflow the stack nor lose precision or memory.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string_view>
#include <tuple>

#include "allocators/registry.hpp"
#include "core/graph.hpp"
#include "tests/policy_types.hpp"

namespace {

using mga::testing_support::AllPolicyTypes;
using mga::testing_support::PolicyNames;

constexpr std::uint64_t kNodes = 2'000'000;

template <class Policy>
class DeepGraph : public ::testing::Test {
 protected:
  // acc = (acc + b) * b from acc = 1, b = 0.5: two nodes per link, plus two leaves.
  // acc tends to b^2 / (1 - b) = 0.5, and d acc / d b to (2b - b^2) / (1 - b)^2 = 3.
  // Sets chain_calls_ to the allocator calls the chain made.
  void check_chain(mga::TopoOrder topo) {
    using Ref = typename Policy::Ref;
    mga::Graph<Policy> g(*policy_, topo);
    const auto before = policy_->stats();
    {
      Ref acc = g.constant(1.0);
      Ref b = g.constant(0.5);
      const Ref first = acc;
      while (g.nodes_created() < kNodes) acc = g.mul(g.add(acc, b), b);
      ASSERT_EQ(g.nodes_created(), kNodes);

      g.backward(acc);
      // The two leaves (acc's start and b) stay out of the sorted order.
      EXPECT_EQ(g.last_topo_order().size(), kNodes - 2);
      EXPECT_DOUBLE_EQ(g.node(acc).data, 0.5);
      EXPECT_EQ(g.node(acc).grad, 1.0);
      EXPECT_NEAR(g.node(b).grad, 3.0, 1e-12);
      EXPECT_TRUE(std::isfinite(g.node(first).grad));
      EXPECT_EQ(g.node(first).grad, 0.0);  // 0.5^1e6 underflows to exactly zero

    }  // the handles go: shared_ptr frees the whole chain here, iteratively
    policy_->release();

    // A policy asks the allocator under it either once per node or for
    // chunks; one that frees per node gives each of its per-node calls back.
    const auto after = policy_->stats();
    const std::uint64_t allocations = after.allocations - before.allocations;
    const std::uint64_t frees = after.frees - before.frees;
    if (allocations == kNodes) {
      if constexpr (Policy::traits.frees_per_node) {
        EXPECT_EQ(frees, kNodes) << "every node is freed";
      } else {
        EXPECT_LE(frees, 1U) << "all nodes are freed at once";
      }
    } else {
      EXPECT_LT(allocations, kNodes / 1000) << "neither one call per node nor chunks";
    }
    chain_calls_ = allocations;
  }

  std::unique_ptr<Policy> policy_ = std::make_unique<Policy>();
  std::uint64_t chain_calls_ = 0;
};

TYPED_TEST_SUITE(DeepGraph, AllPolicyTypes, PolicyNames);

TYPED_TEST(DeepGraph, TwoMillionNodeChain) {
  this->check_chain(mga::TopoOrder::dfs);
}

// The same policy object again: arena and pool reuse their memory, and nothing
// from the first graph may leak into the second.
// A policy that gets its memory in chunks (arena, pool) reuses them.
TYPED_TEST(DeepGraph, TwoChainsInARow) {
  this->check_chain(mga::TopoOrder::dfs);
  const std::uint64_t first_calls = this->chain_calls_;
  const auto stats = this->policy_->stats();
  this->check_chain(mga::TopoOrder::dfs);
  if (first_calls < kNodes) {
    EXPECT_EQ(this->policy_->stats().bytes, stats.bytes) << "the second chain reuses the memory";
  }
}

TEST(DeepGraphHashset, TwoMillionNodeChain) {
  mga::ArenaPolicy policy;
  mga::Graph<mga::ArenaPolicy> g(policy, mga::TopoOrder::hashset);
  mga::Node* acc = g.constant(1.0);
  mga::Node* b = g.constant(0.5);
  while (g.nodes_created() < kNodes) acc = g.mul(g.add(acc, b), b);
  g.backward(acc);
  EXPECT_EQ(g.last_topo_order().size(), kNodes) << "microgpt.py's set visits the leaves too";
  EXPECT_NEAR(b->grad, 3.0, 1e-12);
  policy.release();
}

}  // namespace
