// Where policies put their nodes: every policy that knows its creation order
// walks its nodes newest first; the scattered control really scatters them
// (and the arena does not); the compact control's handles and nodes are
// smaller and stay valid when its array moves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <tuple>
#include <vector>

#include "allocators/registry.hpp"
#include "core/graph.hpp"
#include "core/parameters.hpp"
#include "tests/policy_types.hpp"

namespace mga {
namespace {

// More nodes than an arena chunk or a compact array's first allocation holds.
constexpr int kStepNodes = 50'000;

using testing_support::AllPolicyTypes;
using testing_support::PolicyNames;

template <class Policy>
class CreationOrder : public ::testing::Test {};
TYPED_TEST_SUITE(CreationOrder, AllPolicyTypes, PolicyNames);

// Node k carries k; the walk must see kStepNodes - 1 down to 0, in two steps
// in a row (the second reuses the memory of the first).
TYPED_TEST(CreationOrder, NewestFirstWalksTheStepsNodesNewestFirst) {
  if constexpr (!KnowsCreationOrder<TypeParam>) {
    GTEST_SKIP() << "Graph keeps the creation order for this policy";
  } else {
    TypeParam policy;
    for (int step = 0; step < 2; ++step) {
      std::vector<typename TypeParam::Ref> refs;
      for (int k = 0; k < kStepNodes; ++k) refs.push_back(policy.make());
      for (int k = 0; k < kStepNodes; ++k) policy.node(refs[k]).data = k;
      std::vector<double> walked;
      policy.for_each_node_newest_first([&](auto* node) { walked.push_back(node->data); });
      ASSERT_EQ(walked.size(), std::size_t(kStepNodes)) << "step " << step;
      for (int k = 0; k < kStepNodes; ++k) ASSERT_EQ(walked[k], kStepNodes - 1 - k) << k;
      refs.clear();
      policy.release();
    }
  }
}

// How many of a step's consecutive nodes lie next to each other in memory.
template <AllocationPolicy Policy>
double adjacent_fraction(Policy& policy, std::vector<const void*>* addresses = nullptr) {
  std::vector<const char*> nodes;
  for (int k = 0; k < kStepNodes; ++k)
    nodes.push_back(reinterpret_cast<const char*>(&policy.node(policy.make())));
  int adjacent = 0;
  for (int k = 1; k < kStepNodes; ++k)
    adjacent += nodes[k] - nodes[k - 1] == std::ptrdiff_t(sizeof(typename Policy::Node));
  if (addresses != nullptr) addresses->assign(nodes.begin(), nodes.end());
  return double(adjacent) / (kStepNodes - 1);
}

TEST(ScatteredControl, NodesLandInAPseudoRandomOrderTheArenaDoesNot) {
  ArenaPolicy arena;
  EXPECT_GT(adjacent_fraction(arena), 0.99) << "the arena bumps: the control's comparison";

  ArenaScatteredPolicy scattered;
  std::vector<const void*> first, second, third;
  EXPECT_LT(adjacent_fraction(scattered, &first), 0.01);
  scattered.release();  // the arena grew: the order is drawn over all its slots
  EXPECT_LT(adjacent_fraction(scattered, &second), 0.01);
  scattered.release();
  adjacent_fraction(scattered, &third);
  EXPECT_EQ(second, third) << "the permutation is drawn once and kept";
  EXPECT_EQ(std::set<const void*>(third.begin(), third.end()).size(), third.size());
  EXPECT_NE(first, second) << "after growing, the order covers every slot";
  const auto chunk_bytes = ArenaScatteredPolicy::kSlotsPerChunk * sizeof(Node);
  EXPECT_EQ(scattered.stats().bytes, 4 * chunk_bytes) << "no chunk after the first step";
}

TEST(CompactControl, HandlesAndNodesAreSmaller) {
  EXPECT_EQ(sizeof(ArenaCompactPolicy::Ref), 4U);
  EXPECT_LT(sizeof(ArenaCompactPolicy::Node), sizeof(Node));
  EXPECT_EQ(sizeof(ArenaCompactPolicy::Node), 48U);
}

// Many more nodes than the first array holds: it moves, and every handle made
// before still reaches its node, the parameters included, across releases.
TEST(CompactControl, HandlesSurviveTheArrayMovingAndParametersStay) {
  ArenaCompactPolicy policy;
  Parameters<ArenaCompactPolicy> params(policy, 100);
  for (std::size_t i = 0; i < params.size(); ++i) params.nodes()[i].data = -double(i);
  Graph<ArenaCompactPolicy> g(policy, TopoOrder::dfs);
  for (int step = 0; step < 2; ++step) {
    auto acc = g.mul(params.ref(3), params.ref(5));
    const auto first = acc;
    for (int k = 0; k < 200'000; ++k) acc = g.add(acc, params.ref(10 + k % 90));
    EXPECT_GT(policy.stats().allocations, 1U) << "the array grew";
    EXPECT_EQ(g.node(first).data, 15.0);
    g.backward(acc);
    EXPECT_EQ(g.node(first).grad, 1.0);
    EXPECT_EQ(g.node(params.ref(3)).grad, -5.0 * (step + 1));  // d first / d p3 = p5, twice over
    g.release();
  }
  for (std::size_t i = 0; i < params.size(); ++i) EXPECT_EQ(params.nodes()[i].data, -double(i));
}

}  // namespace
}  // namespace mga
