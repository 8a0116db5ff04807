// How big a run is, from the model's shape alone: the nodes a step of the node
// graph makes (exact: tests/reliability/memory_test.cpp counts them against
// Graph::nodes_created() for several shapes), and upper estimates of a run's
// peak memory, per engine, that bench_train uses to refuse runs that cannot
// fit (the same test runs them and compares with the peak RSS measured).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "core/graph.hpp"
#include "core/model.hpp"
#include "core/tape_shape.hpp"

namespace mga {

namespace footprint_detail {

// Nodes of Gpt::forward at every position but the attention over the KV cache
// (which grows with the position): counted op by op from core/model.hpp and
// the ops' desugaring in core/graph.hpp. A row of `cols` inputs makes
// 2 * cols + 1 nodes (mul, Value(0), add, then mul and add per input); an
// rmsnorm of n makes 3n + 6; a softmax of n makes 6n + 1.
inline double forward_nodes_per_position(const ModelConfig& c, int vocab) {
  const double e = c.n_embd, h = c.n_head, v = vocab;
  const double rmsnorm = 3 * e + 6, row = 2 * e + 1;
  const double layer = rmsnorm        // before attention
                       + 3 * e * row  // query, key, value
                       + e + h        // per head: softmax's +1, the weighted sums' Value(0)s
                       + e * row + e  // attn_wo, residual
                       + rmsnorm      // before the MLP
                       + 4 * e * row + 4 * e         // mlp_fc1, relu
                       + e * (8 * e + 1) + e;        // mlp_fc2 (rows of 4e inputs), residual
  return e + rmsnorm + c.n_layer * layer + v * row;  // embeddings, rmsnorm, layers, lm_head
}

// Attention nodes at position p (0-based) are (p + 1) * this: per key, a dot
// product of head_dim (2 * head_dim + 1 nodes) scaled (2), its softmax share
// (6) and its term of the weighted sums (2 * head_dim), for every head.
inline double attention_nodes_per_key(const ModelConfig& c) {
  return c.n_layer * (4.0 * c.n_embd + 9.0 * c.n_head);
}

inline double triangle(double n) {
  return n * (n + 1) / 2;
}

}  // namespace footprint_detail

// Nodes of one training step (Trainer::train_step) over `positions`
// positions: forward, softmax (6V + 1) and -log p (3) per position, then the
// mean of the losses (sum: n + 1, times 1/n: 2).
inline double graph_nodes_per_training_step(const ModelConfig& c, int vocab, int positions) {
  using namespace footprint_detail;
  const double n = positions;
  return n * (forward_nodes_per_position(c, vocab) + 6.0 * vocab + 4) +
         attention_nodes_per_key(c) * triangle(n) + n + 3;
}

// Nodes of one sample (Trainer::sample) that runs `positions` positions:
// forward, logits / temperature (2V) and softmax (6V + 1) per position.
inline double graph_nodes_per_sample(const ModelConfig& c, int vocab, int positions) {
  using namespace footprint_detail;
  const double n = positions;
  return n * (forward_nodes_per_position(c, vocab) + 8.0 * vocab + 1) +
         attention_nodes_per_key(c) * triangle(n);
}

// ---- memory ------------------------------------------------------------------

// What a policy's node costs, from its Node type and its traits.
struct NodeCost {
  double node_bytes = 0;      // sizeof(Node)
  bool counted_refs = false;  // Ref is a shared_ptr: a control block per node, 16-byte handles
};
template <AllocationPolicy Policy>
NodeCost node_cost_of() {
  return {double(sizeof(typename Policy::Node)), Policy::traits.reference_counted};
}

// The resident memory of the program before any model: code, libraries,
// allocator arenas and the stack (about 12 MiB measured, with room).
inline constexpr double kBaselineBytes = 24.0 * (1 << 20);

// The most a process of the node graph engine holds at once for `positions`
// positions (training, and sampling when `sampling`) besides the baseline and
// the dataset.
inline double graph_run_bytes(const ModelConfig& c, int vocab, int positions, bool sampling,
                              NodeCost cost, TopoOrder topo) {
  using namespace footprint_detail;
  const double params = double(ParamLayout(c, vocab).total);
  const double ref_bytes = cost.counted_refs ? 16 : 8;
  // Parameters are nodes of the model, with a handle each and Adam's two moments.
  const double model = params * (cost.node_bytes + ref_bytes + 16);
  const double nodes = std::max(graph_nodes_per_training_step(c, vocab, positions),
                                sampling ? graph_nodes_per_sample(c, vocab, positions) : 0.0);
  // A node from any allocator: its size, a control block for shared_ptr, a
  // malloc-style 8-byte header, rounded to 16. Arrays that grow by doubling
  // (a policy's record of its nodes, the sort's order) can hold the old and
  // the new copy at once: 3 entries per node.
  const double node = std::ceil((cost.node_bytes + (cost.counted_refs ? 16 : 0) + 8) / 16) * 16;
  const double record = 3 * 8;
  double order = 0;
  switch (topo) {
    case TopoOrder::dfs:
      order = 3 * 8;  // the order; its stack is a path of the graph, counted below
      break;
    case TopoOrder::hashset:
      order = 32 + 4 * 8;  // a set element (malloc'ed pair of pointers), its bucket array growing
      break;
    case TopoOrder::creation:
      order = 3 * ref_bytes;  // Graph's own record, for policies without one
      break;
  }
  // The DFS stack is at most the longest path: within a position about
  // 20 n_embd + 3 positions + a few nodes per layer, and vocab + 4 n_embd for
  // the rest; a path runs through every position by the KV cache.
  const double n = positions;
  const double path =
      n * (c.n_layer * (20.0 * c.n_embd + 3 * n + 30) + vocab + 4.0 * c.n_embd + 20);
  const double stack = topo == TopoOrder::creation ? 0 : 3 * 16 * path;
  const double cache = 2.0 * n * c.n_layer * c.n_embd * ref_bytes;  // the KV cache's handles
  return model + nodes * (node + record + order) + stack + cache;
}

// The doubles a tape (core/tape.hpp, either engine) holds for a step of
// `positions` positions, as TapeGpt lays them out: per position a record of
// activations, one of gradients, the KV cache and its gradients, and the
// backward's scratch (at most two); and the attention rows, an exp and a
// weight per head and layer for each position a position attends to (1 + 2 +
// ... + positions). TapeGpt is made for the longest document's positions and
// grows only past them; samples end within them (DataShape).
inline double tape_activations(const ModelConfig& c, int vocab, int positions) {
  const TapeShape s(c, vocab, TapeShape::Index::skip);
  const double n = positions;
  return n * (s.record + s.grad_record + 2.0 * double(s.kv_stride) + 2) +
         s.attention_per_key() * footprint_detail::triangle(n);
}

// The bytes of a tape run besides the baseline and the dataset: its
// activations, and its parameters: the forward's weights in tape order
// (padded), the map from ParamLayout's order to it, and the gradients and
// Adam's two moments, padded like the weights for the fast tape, in
// ParamLayout's order beside their own copy of the parameters for the exact one.
inline double tape_run_bytes(const ModelConfig& c, int vocab, int positions, bool exact) {
  const TapeShape s(c, vocab, TapeShape::Index::skip);
  const double params = double(ParamLayout(c, vocab).total), padded = double(s.num_params);
  const double parameters = exact ? padded + 4 * params : 4 * padded;
  return 8 * (tape_activations(c, vocab, positions) + parameters + params);
}

}  // namespace mga
