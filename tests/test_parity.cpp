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
#include <unordered_set>

#include "allocators/registry.hpp"
#include "core/train.hpp"
#include "tests/dataset_path.hpp"
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
  static const Dataset data = load_dataset(test::names_path());
  return data;
}

// The real names when shared/ is there, else a small set made here, so the
// cross-policy checks run on any checkout.
const Dataset& any_dataset() {
  if (!test::names_path().empty()) return names_dataset();
  static const Dataset made = parse_dataset(
      "emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\nharper\nevelyn\n"
      "liam\nnoah\noliver\nelijah\njames\nwilliam\nbenjamin\nlucas\nhenry\ntheodore\n");
  return made;
}

double loss_of(const std::string& line) {
  auto at = line.find("| loss ");
  return at == std::string::npos ? NAN : std::stod(line.substr(at + 7));
}

template <AllocationPolicy Policy>
void expect_reference_output(const RunConfig& config, const std::string& reference_name) {
  const std::string reference_path = kShared + "/reference/" + reference_name;
  if (!std::filesystem::exists(reference_path) || test::names_path().empty()) {
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

// Reverse creation order is a topological order too: the arena walks its
// memory, the pool its list of nodes, and both print microgpt.py's output.
TEST(ParityTopo, CreationOrderMatchesMicrogptPy) {
  RunConfig config;
  config.topo = TopoOrder::creation;
  expect_reference_output<ArenaPolicy>(config, "microgpt_py_seed42_steps1000.txt");
  expect_reference_output<PoolPolicy>(config, "microgpt_py_seed42_steps1000.txt");
}

// Reverse creation order adds every gradient in the DFS's order (Gpt makes
// its nodes so), so it computes the same bits: every loss, and after training
// every parameter. The hashset DFS must not change the order either.
TEST(ParityTopo, CreationOrderIsBitExact) {
  for (auto [model, steps] :
       {std::pair{ModelConfig{}, 1000}, std::pair{ModelConfig{8, 2, 2, 8}, 200},
        std::pair{ModelConfig{12, 3, 3, 10}, 200}}) {
    RunConfig config;
    config.model = model;
    config.steps = steps;
    // Every step's loss, and every parameter after the last step.
    auto train_with = [&](TopoOrder topo) {
      config.topo = topo;
      auto rng = make_rng(config.rng, config.seed);
      Trainer<ArenaPolicy> trainer(any_dataset(), config, *rng);
      PhaseSeconds phases;
      std::pair<std::vector<double>, std::vector<double>> losses_and_params;
      auto& [losses, params] = losses_and_params;
      for (int step = 0; step < steps; ++step) {
        const auto& doc = any_dataset().docs[std::size_t(step) % any_dataset().docs.size()];
        losses.push_back(trainer.train_step(doc, step, phases));
      }
      for (const Node& p : trainer.params()) params.push_back(p.data);
      return losses_and_params;
    };
    const auto [dfs, dfs_params] = train_with(TopoOrder::dfs);
    const auto [creation, creation_params] = train_with(TopoOrder::creation);
    double max_difference = 0;
    for (std::size_t i = 0; i < dfs.size(); ++i)
      max_difference = std::max(max_difference, std::abs(dfs[i] - creation[i]));
    std::printf("n_embd %d n_layer %d, %d steps: max |loss(dfs) - loss(creation)| = %g\n",
                model.n_embd, model.n_layer, steps, max_difference);
    EXPECT_EQ(creation, dfs);
    EXPECT_EQ(creation_params, dfs_params) << "parameters after " << steps << " steps";
    if (model.n_layer == 1) {
      EXPECT_EQ(train_with(TopoOrder::hashset).first, dfs) << "the visited set changed the order";
    }
  }
}

// Why creation order is bit-exact: in the graphs of many steps, each node's
// parents add into its grad in the same order under dfs and under reverse
// creation order. Parents the loss does not reach (the other tokens'
// probabilities) exist only in creation order; they add exact zeros.
TEST(ParityTopo, CreationOrderGivesEveryNodeItsParentsInDfsOrder) {
  const Dataset& data = any_dataset();
  std::vector<std::vector<std::uint32_t>> docs;
  for (std::size_t i = 0; i < std::min<std::size_t>(20, data.docs.size()); ++i)
    docs.emplace_back(data.docs[i].begin(), data.docs[i].end());
  const auto longest = *std::max_element(data.docs.begin(), data.docs.end(),
                                         [](auto a, auto b) { return a.size() < b.size(); });
  docs.emplace_back(longest.begin(), longest.end());
  std::size_t with_parents = 0, with_three_parents = 0, reordered = 0;
  for (const ModelConfig& model :
       {ModelConfig{}, ModelConfig{8, 2, 2, 8}, ModelConfig{12, 3, 3, 10}}) {
    for (const auto& doc : docs) {
      StepGraph step(data, model, doc);
      const auto order = step.graph.last_topo_order();
      const std::unordered_set<const Node*> reached(order.begin(), order.end());
      std::unordered_map<const Node*, std::vector<const Node*>> by_dfs, by_creation;
      auto record = [&reached](auto& parents_of) {
        return [&](const Node* v) {
          if (!reached.contains(v)) return;
          for (std::uint32_t j = 0; j < v->n_children; ++j) parents_of[v->children[j]].push_back(v);
        };
      };
      std::for_each(order.rbegin(), order.rend(), record(by_dfs));
      step.policy.for_each_node_newest_first(record(by_creation));
      ASSERT_EQ(by_creation.size(), by_dfs.size());
      for (const auto& [child, parents] : by_dfs) {
        ++with_parents;
        with_three_parents += parents.size() >= 3;
        reordered += parents != by_creation[child];
      }
    }
  }
  std::printf(
      "%zu step graphs: %zu of %zu nodes (%zu with 3+ parents) add their parents in another "
      "order\n",
      3 * docs.size(), reordered, with_parents, with_three_parents);
  EXPECT_GT(with_three_parents, 0U) << "only 3+ parents can add in an order that changes bits";
  EXPECT_EQ(reordered, 0U);
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
