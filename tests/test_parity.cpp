// Every policy prints exactly what microgpt.py (and, with --rng=mulberry32,
// microgpt.ts) prints: the whole stdout is compared byte for byte, and on a
// mismatch the first differing line and the largest loss difference are shown.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "allocators/registry.hpp"
#include "core/train.hpp"
#include "tests/step_graph.hpp"

namespace mga {
namespace {

const std::string kShared = MGA_SHARED_DIR;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const Dataset& names_dataset() {
  static const Dataset data = load_dataset(kShared + "/data/names.txt");
  return data;
}

// The real names when shared/ is there, else a small set made here, so the
// cross-policy checks run on any checkout.
const Dataset& any_dataset() {
  if (std::filesystem::exists(kShared + "/data/names.txt")) return names_dataset();
  static const Dataset made = parse_dataset(
      "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\n"
      "liam\nnoah\noliver\nelijah\njames\nwilliam\nbenjamin\nlucas\nhenry\ntheodore\n");
  return made;
}

double loss_of(const std::string& line) {
  auto at = line.find("| loss ");
  return at == std::string::npos ? NAN : std::stod(line.substr(at + 7));
}

template <class Policy>
void expect_reference_output(const RunConfig& config, const std::string& reference_name) {
  const std::string reference_path = kShared + "/reference/" + reference_name;
  if (!std::filesystem::exists(reference_path) ||
      !std::filesystem::exists(kShared + "/data/names.txt")) {
    GTEST_SKIP() << "no " << reference_path
                 << " (the shared/ directory beside the checkout is absent)";
  }
  std::vector<std::string> printed;
  run_microgpt<Policy>(names_dataset(), config,
                       [&](const std::string& line) { printed.push_back(line); });
  const auto expected = read_lines(reference_path);

  double max_loss_difference = 0;
  std::size_t first_difference = std::min(printed.size(), expected.size());
  for (std::size_t i = 0; i < std::min(printed.size(), expected.size()); ++i) {
    if (printed[i] != expected[i] && first_difference == std::min(printed.size(), expected.size()))
      first_difference = i;
    const double difference = std::abs(loss_of(printed[i]) - loss_of(expected[i]));
    if (!std::isnan(difference)) max_loss_difference = std::max(max_loss_difference, difference);
  }
  std::printf("[%s] %zu lines, max |loss - reference| = %.4f\n", std::string(Policy::name).c_str(),
              printed.size(), max_loss_difference);
  EXPECT_EQ(printed.size(), expected.size());
  if (first_difference < std::min(printed.size(), expected.size())) {
    ADD_FAILURE() << "line " << first_difference + 1 << " differs:\n  got      "
                  << printed[first_difference] << "\n  expected " << expected[first_difference];
  }
}

template <class Policy>
class Parity : public ::testing::Test {};

using PolicyTypes = decltype([]<class... P>(std::tuple<P...>*) {
  return ::testing::Types<P...>{};
}(static_cast<AllPolicies*>(nullptr)));
TYPED_TEST_SUITE(Parity, PolicyTypes);

TYPED_TEST(Parity, MicrogptPyDefaultConfigSeed42) {
  expect_reference_output<TypeParam>(RunConfig{}, "microgpt_py_seed42_steps1000.txt");
}

TYPED_TEST(Parity, MicrogptPyTwoLayersSeed5) {
  RunConfig config;
  config.model = {.n_embd = 8, .n_head = 2, .n_layer = 2, .block_size = 8};
  config.seed = 5;
  config.steps = 25;
  expect_reference_output<TypeParam>(config,
                                     "microgpt_py_embd8_head2_layer2_block8_seed5_steps25.txt");
}

TEST(ParityTs, MicrogptTsMulberry32Seed42) {
  RunConfig config;
  config.rng = RngKind::mulberry32;
  expect_reference_output<ArenaPolicy>(config, "microgpt_ts_seed42_steps1000.txt");
}

// Reverse creation order is a topological order too, and its output matches
// microgpt.py's to the printed digits (the arena walks its memory, the pool
// its list of nodes).
TEST(ParityTopo, CreationOrderMatchesMicrogptPy) {
  RunConfig config;
  config.topo = TopoOrder::creation;
  expect_reference_output<ArenaPolicy>(config, "microgpt_py_seed42_steps1000.txt");
  expect_reference_output<PoolPolicy>(config, "microgpt_py_seed42_steps1000.txt");
}

// Reverse creation order is not the DFS order everywhere: the DFS reaches the
// target token's logit row first, so some nodes sum their parents' gradients
// in another order and the losses drift in the last bits. Bound and print it.
TEST(ParityTopo, CreationOrderDriftsOnlyInTheLastBits) {
  auto losses_with = [](TopoOrder topo) {
    RunConfig config;
    config.topo = topo;
    config.samples = 0;
    return run_microgpt<ArenaPolicy>(any_dataset(), config, [](const std::string&) {}).losses;
  };
  const std::vector<double> dfs = losses_with(TopoOrder::dfs);
  const std::vector<double> creation = losses_with(TopoOrder::creation);
  ASSERT_EQ(dfs.size(), creation.size());
  double max_difference = 0;
  for (std::size_t i = 0; i < dfs.size(); ++i) {
    max_difference = std::max(max_difference, std::abs(dfs[i] - creation[i]));
  }
  std::printf("max |loss(dfs) - loss(creation)| over %zu steps: %g\n", dfs.size(), max_difference);
  EXPECT_LT(max_difference, 1e-12);
  EXPECT_EQ(losses_with(TopoOrder::hashset), dfs)
      << "the visited set must not change the DFS order";
}

// Why creation order drifts, and how little: in the graph of one step on the
// longest name, compare the order in which each node's parents add into its
// grad under dfs and under reverse creation order. Only nodes with three or
// more parents can differ in bits (two additions to zero commute exactly).
TEST(ParityTopo, CreationOrderReordersFewNodesAndNoParameter) {
  const Dataset& data = any_dataset();
  const auto& doc = *std::max_element(data.docs.begin(), data.docs.end(),
                                      [](auto& a, auto& b) { return a.size() < b.size(); });
  StepGraph step(data, ModelConfig{}, doc);

  // Each child's parents in the order backward visits them: reversed dfs order,
  // and newest first for creation order.
  std::unordered_map<const Node*, std::vector<const Node*>> by_dfs, by_creation;
  auto record = [](auto& parents_of) {
    return [&parents_of](const Node* v) {
      for (std::uint32_t j = 0; j < v->n_children; ++j) parents_of[v->children[j]].push_back(v);
    };
  };
  const auto order = step.graph.last_topo_order();
  std::for_each(order.rbegin(), order.rend(), record(by_dfs));
  step.policy.for_each_node_newest_first(record(by_creation));

  const auto params = step.model.params();
  std::size_t with_three_parents = 0, reordered = 0, reordered_params = 0;
  for (const auto& [child, parents] : by_dfs) {
    if (parents.size() < 3) continue;
    ++with_three_parents;
    if (parents == by_creation[child]) continue;
    ++reordered;
    reordered_params += child >= params.data() && child < params.data() + params.size();
  }
  std::printf("%d positions: %zu of %zu nodes with 3+ parents add them in another order\n",
              step.positions, reordered, with_three_parents);
  EXPECT_GT(reordered, 0U) << "then creation order would be bit-exact";
  EXPECT_LT(reordered * 10, with_three_parents);
  EXPECT_EQ(reordered_params, 0U) << "parameters get their gradients in microgpt.py's order";
}

// For seeds and shapes with no reference file, every policy (and every
// backward order) must still compute the same thing as `new`.
TEST(ParityAcrossPolicies, OtherSeedsAndShapesAgree) {
  for (auto [seed, model] :
       {std::pair{7ULL, ModelConfig{}}, std::pair{123456789ULL, ModelConfig{12, 3, 3, 10}}}) {
    RunConfig config;
    config.seed = seed;
    config.model = model;
    config.steps = 30;
    auto output_of = [&]<class P>(std::type_identity<P>, TopoOrder topo) {
      std::ostringstream out;
      config.topo = topo;
      run_microgpt<P>(any_dataset(), config, [&](const std::string& line) { out << line << '\n'; });
      return out.str();
    };
    const std::string expected = output_of(std::type_identity<NewDeletePolicy>{}, TopoOrder::dfs);
    for_each_policy([&]<class P>(std::type_identity<P> tag) {
      EXPECT_EQ(output_of(tag, TopoOrder::dfs), expected) << P::name << " seed " << seed;
      EXPECT_EQ(output_of(tag, TopoOrder::creation), expected) << P::name << " creation order";
    });
    EXPECT_EQ(output_of(std::type_identity<ArenaPolicy>{}, TopoOrder::hashset), expected)
        << "hashset topo";
  }
}

}  // namespace
}  // namespace mga
