// core/footprint.hpp's node counts, which it counts piece by piece without
// building a step, against the nodes real steps and samples make, for shapes
// that vary every width (n_head up to n_embd, one and several layers, vocab
// sizes, documents shorter and longer than the block); and the tape's fused
// ops, counted as they run, against the count they have always had.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "allocators/arena.hpp"
#include "core/footprint.hpp"
#include "core/tape_model.hpp"
#include "core/train.hpp"

namespace mga {
namespace {

const std::vector<ModelConfig>& shapes() {
  static const std::vector<ModelConfig> all = {
      {}, {8, 2, 2, 8}, {12, 3, 3, 10}, {32, 4, 2, 16}, {6, 6, 1, 40}, {4, 1, 1, 3}};
  return all;
}

const Dataset& documents() {
  static const Dataset data = parse_dataset(
      "a\nbo\ncarla\nabcdefghijklmnop\nabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\n");
  return data;
}

RunConfig config_of(const ModelConfig& model) {
  RunConfig config;
  config.model = model;
  return config;
}

int positions_of(const ModelConfig& model, std::span<const std::uint32_t> doc) {
  return int(std::min<std::size_t>(std::size_t(model.block_size), doc.size() + 1));
}

TEST(NodesPerStep, CountedPiecesEqualARealStepAndSample) {
  const Dataset& data = documents();
  for (const ModelConfig& model : shapes()) {
    auto rng = make_rng(RngKind::python, 42);
    Trainer<ArenaPolicy> trainer(data, config_of(model), *rng);
    PhaseSeconds phases;
    for (const auto doc : data.docs) {
      const int positions = positions_of(model, doc);
      SCOPED_TRACE("n_embd " + std::to_string(model.n_embd) + ", positions " +
                   std::to_string(positions));
      const auto before = trainer.nodes_created();
      trainer.train_step(doc, 0, phases);
      EXPECT_EQ(double(trainer.nodes_created() - before),
                graph_nodes_per_training_step(model, data.vocab_size(), positions));
    }
    for (int i = 0; i < 5; ++i) {
      const auto before = trainer.nodes_created();
      const auto tokens = trainer.sample(*rng, 0.5);
      // A sample runs until BOS (one position more than its tokens) or the block ends.
      const int positions =
          int(tokens.size()) == model.block_size ? model.block_size : int(tokens.size()) + 1;
      EXPECT_EQ(double(trainer.nodes_created() - before),
                graph_nodes_per_sample(model, data.vocab_size(), positions))
          << "sample of " << positions << " positions";
    }
  }
}

// Per position: the embedding and its rmsnorm, per layer ten fused ops
// (rmsnorm, q|k|v, attention, wo, residual, rmsnorm, fc1, relu, fc2,
// residual), lm_head and the cross-entropy; and the step's mean.
TEST(FusedOpsPerStep, CountedAsTheyRun) {
  const Dataset& data = documents();
  for (const ModelConfig& model : shapes()) {
    auto rng = make_rng(RngKind::python, 42);
    TapeTrainer<TapeMode::fast> fast(data, config_of(model), *rng);
    TapeTrainer<TapeMode::exact> exact(data, config_of(model), *rng);
    PhaseSeconds phases;
    for (const auto doc : data.docs) {
      const std::uint64_t expected =
          std::uint64_t(positions_of(model, doc)) * (4 + 10 * model.n_layer) + 1;
      const auto fast_before = fast.nodes_created(), exact_before = exact.nodes_created();
      fast.train_step(doc, 0, phases);
      exact.train_step(doc, 0, phases);
      EXPECT_EQ(fast.nodes_created() - fast_before, expected);
      EXPECT_EQ(exact.nodes_created() - exact_before, expected);
    }
  }
}

}  // namespace
}  // namespace mga
