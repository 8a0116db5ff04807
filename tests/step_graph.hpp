// One training step's graph, built and differentiated as Trainer::train_step
// does it, from a model freshly drawn from seed 42: for tests that look inside.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "allocators/arena.hpp"
#include "core/train.hpp"

namespace mga {

struct StepGraph {
  StepGraph(const Dataset& data, const ModelConfig& config, std::span<const std::uint32_t> doc)
      : model(config, data.vocab_size(), *make_rng(RngKind::python, 42), policy) {
    std::vector<int> tokens;
    positions = step_tokens(doc, data.bos(), config.block_size, tokens);
    Gpt<ArenaPolicy>::KvCache kv(config.n_layer);
    std::vector<Node*> losses;
    loss = model.loss(graph, tokens, positions, kv, losses);
    graph.backward(loss);
  }
  StepGraph(const StepGraph&) = delete;  // graph refers to policy
  StepGraph& operator=(const StepGraph&) = delete;

  ArenaPolicy policy;
  Graph<ArenaPolicy> graph{policy, TopoOrder::dfs};
  Gpt<ArenaPolicy> model;
  Node* loss = nullptr;
  int positions = 0;
};

}  // namespace mga
