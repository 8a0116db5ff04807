// How big a run is, from the model's shape alone: the nodes a step of the node
// graph makes, and upper estimates of a run's peak memory, per engine, that
// bench_train uses to refuse runs that cannot fit (tests/test_footprint.cpp and
// tests/reliability/memory_test.cpp compare both with real runs).
//
// The node counts are counted, not written down: each piece of Gpt (a row's
// sum of products, rmsnorm, an attention head, a position's loss, ...) runs
// once, at this shape's width, on a graph whose nodes all share one slot, and
// the counts are put together as Gpt::forward, Gpt::loss and Trainer::sample
// put the pieces together. That stays cheap for any shape bench_train takes
// (a piece is at most a few rows wide), where building a step would not be.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/graph.hpp"
#include "core/model.hpp"
#include "core/tape_shape.hpp"

namespace mga {

namespace footprint_detail {

// A policy whose nodes all share one slot: a Graph on it runs a piece of the
// model at any width in constant memory, and counts the nodes it makes.
class CountingPolicy {
 public:
  using Node = mga::Node;
  using Ref = Node*;
  static constexpr std::string_view name = "counting";
  static constexpr std::string_view description = "every node in one slot, for counting";
  static constexpr PolicyTraits traits{.single_thread_release_reason = "counts, frees nothing"};

  Ref make() { return new (&slot_) Node; }
  void release() {}
  static Node& node(Ref ref) { return *ref; }
  static Ref borrow(Node& node) { return &node; }
  const AllocStats& stats() const { return stats_; }

 private:
  Node slot_;
  AllocStats stats_;
};

using CountingGpt = Gpt<CountingPolicy>;
using CountingGraph = Graph<CountingPolicy>;
using Vector = CountingGpt::Vector;

// The nodes piece(graph, x) makes, x a vector of `width` leaves.
template <class Piece>
double nodes_made(int width, Piece&& piece) {
  CountingPolicy policy;
  CountingGraph graph(policy);
  Node leaf;
  const Vector x(std::size_t(width), CountingPolicy::borrow(leaf));
  piece(graph, x);
  return double(graph.nodes_created());
}

// The nodes of Gpt's pieces at one shape, each counted once.
class PieceNodes {
 public:
  PieceNodes(const ModelConfig& c, int vocab)
      : add_(nodes_made(1, [](CountingGraph& g, const Vector& x) { g.add(x[0], x[0]); })),
        rmsnorm_(nodes_made(c.n_embd, CountingGpt::rmsnorm)),
        residual_(nodes_made(
            c.n_embd, [](CountingGraph& g, Vector x) { CountingGpt::add_in_place(g, x, x); })),
        head_with_one_key_(head(c, 1)),
        per_key_(head(c, 2) - head_with_one_key_),
        position_loss_(nodes_made(
            vocab, [](CountingGraph& g, const Vector& x) { CountingGpt::position_loss(g, x, 0); })),
        sampling_(nodes_made(vocab, [](CountingGraph& g, Vector x) {
          CountingGpt::sampling_probabilities(g, x, 0.5);
        })) {}

  double add() const { return add_; }            // one Graph::add: a node per embedding entry
  double rmsnorm() const { return rmsnorm_; }    // Gpt::rmsnorm of n_embd
  double residual() const { return residual_; }  // Gpt::add_in_place of n_embd
  // Gpt::attention_head: besides the keys, and per key attended to.
  double head_fixed() const { return head_with_one_key_ - per_key_; }
  double head_per_key() const { return per_key_; }
  double position_loss() const { return position_loss_; }  // Gpt::position_loss of vocab
  double sampling() const { return sampling_; }            // Gpt::sampling_probabilities of vocab
  // Gpt::relu_in_place of `width`.
  double relu(int width) {
    return counted(relus_, width,
                   [](CountingGraph& g, Vector x) { CountingGpt::relu_in_place(g, x); });
  }
  // A row of Gpt::linear over `cols` inputs: Gpt::sum_of_products.
  double row(int cols) {
    return counted(rows_, cols, [cols](CountingGraph& g, const Vector& x) {
      const auto xi = [&x](int i) -> const CountingPolicy::Ref& { return x[i]; };
      CountingGpt::sum_of_products(g, cols, xi, xi);
    });
  }
  // Gpt::mean of `n` losses.
  static double mean(int n) { return nodes_made(n, CountingGpt::mean); }

 private:
  static double head(const ModelConfig& c, int keys) {
    const int head_dim = c.n_embd / c.n_head;
    return nodes_made(head_dim, [keys, head_dim](CountingGraph& g, const Vector& x) {
      const std::vector<Vector> cache(std::size_t(keys), x);
      Vector out;
      CountingGpt::attention_head(g, x, cache, cache, 0, head_dim, out);
    });
  }

  // nodes_made(width, piece), counted once per width.
  template <class Piece>
  static double counted(std::map<int, double>& by_width, int width, Piece&& piece) {
    auto [at, fresh] = by_width.try_emplace(width, 0.0);
    if (fresh) at->second = nodes_made(width, piece);
    return at->second;
  }

  double add_, rmsnorm_, residual_, head_with_one_key_, per_key_, position_loss_, sampling_;
  std::map<int, double> rows_, relus_;
};

// Nodes of Gpt::forward at one position, as it puts the pieces together: the
// part the same at every position, and the attention's nodes per key a
// position attends to (position p, from 0, attends to p + 1).
struct ForwardNodes {
  double fixed = 0;
  double per_key = 0;
};
inline ForwardNodes forward_nodes(const ModelConfig& c, int vocab, PieceNodes& pieces) {
  const ParamLayout layout(c, vocab);
  ForwardNodes nodes;
  nodes.fixed = c.n_embd * pieces.add() + pieces.rmsnorm();  // embeddings, rmsnorm
  for (const auto& layer : layout.layers) {
    // Every row of every matrix, one sum of products each.
    for (const Matrix* m : {&layer.attn_wq, &layer.attn_wk, &layer.attn_wv, &layer.attn_wo,
                            &layer.mlp_fc1, &layer.mlp_fc2})
      nodes.fixed += m->rows * pieces.row(m->cols);
    nodes.fixed += 2 * pieces.rmsnorm() + 2 * pieces.residual() + pieces.relu(layer.mlp_fc1.rows) +
                   c.n_head * pieces.head_fixed();
    nodes.per_key += c.n_head * pieces.head_per_key();
  }
  nodes.fixed += layout.lm_head.rows * pieces.row(layout.lm_head.cols);
  return nodes;
}

inline double triangle(double n) {
  return n * (n + 1) / 2;
}

}  // namespace footprint_detail

// Nodes of one training step (Trainer::train_step, Gpt::loss) over
// `positions` positions: each position's forward and loss, then their mean.
inline double graph_nodes_per_training_step(const ModelConfig& c, int vocab, int positions) {
  using namespace footprint_detail;
  PieceNodes pieces(c, vocab);
  const ForwardNodes forward = forward_nodes(c, vocab, pieces);
  const double n = positions;
  return n * (forward.fixed + pieces.position_loss()) + forward.per_key * triangle(n) +
         PieceNodes::mean(positions);
}

// Nodes of one sample (Trainer::sample) that runs `positions` positions: each
// position's forward and sampling probabilities.
inline double graph_nodes_per_sample(const ModelConfig& c, int vocab, int positions) {
  using namespace footprint_detail;
  PieceNodes pieces(c, vocab);
  const ForwardNodes forward = forward_nodes(c, vocab, pieces);
  const double n = positions;
  return n * (forward.fixed + pieces.sampling()) + forward.per_key * triangle(n);
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
