// The microgpt model: token + position embeddings, rmsnorm, causal multi-head
// attention with a KV cache, a relu MLP and the lm_head, written once for every
// policy. Every node computes what microgpt.py's does, from the same operands.
//
// The order in which nodes are made is chosen for backward. A gradient's bits
// depend on the order in which a node's parents add into it, and microgpt.py's
// DFS decides that order: it reaches the target token's logit row before the
// other logits, and a layer's query, key and value rows head by head. Making
// the rows in that order (everything else already is: generator expressions
// interleave products with sums, as here) lets reverse creation order add every
// gradient as microgpt.py does, so TopoOrder::creation is bit-exact with no
// sort. tests/test_parity.cpp compares every node's parents in both orders.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "core/graph.hpp"
#include "core/parameters.hpp"
#include "core/python_pow.hpp"
#include "core/rng.hpp"

namespace mga {

struct ModelConfig {
  int n_embd = 16;
  int n_head = 4;
  int n_layer = 1;
  int block_size = 16;
};

// Where each matrix of microgpt.py's state_dict sits in one flat array of
// parameters, in the order microgpt.py creates them and so draws them from the
// rng: wte, wpe, lm_head, then per layer attn_wq, attn_wk, attn_wv, attn_wo,
// mlp_fc1, mlp_fc2. Both engines (Gpt here, TapeGpt) lay out their parameters so.
struct Matrix {  // a rows x cols block of the parameters, row-major
  std::size_t first = 0;
  int rows = 0;
  int cols = 0;
};

struct ParamLayout {
  struct Layer {
    Matrix attn_wq, attn_wk, attn_wv, attn_wo, mlp_fc1, mlp_fc2;
  };
  Matrix wte, wpe, lm_head;
  std::vector<Layer> layers;
  std::size_t total = 0;  // parameters in all

  ParamLayout(const ModelConfig& config, int vocab_size) {
    const int embd = config.n_embd;
    wte = next(vocab_size, embd);
    wpe = next(config.block_size, embd);
    lm_head = next(vocab_size, embd);
    for (int i = 0; i < config.n_layer; ++i) {
      Layer& layer = layers.emplace_back();
      layer.attn_wq = next(embd, embd);
      layer.attn_wk = next(embd, embd);
      layer.attn_wv = next(embd, embd);
      layer.attn_wo = next(embd, embd);
      layer.mlp_fc1 = next(4 * embd, embd);
      layer.mlp_fc2 = next(embd, 4 * embd);
    }
  }

 private:
  Matrix next(int rows, int cols) {
    const Matrix m{total, rows, cols};
    total += std::size_t(rows) * cols;
    return m;
  }
};

template <AllocationPolicy Policy>
class Gpt {
 public:
  using Node = typename Policy::Node;
  using Ref = typename Policy::Ref;
  using Vector = std::vector<Ref>;

  // keys[layer][position] and values[layer][position], each n_embd long.
  struct KvCache {
    explicit KvCache(int n_layer) : keys(n_layer), values(n_layer) {}
    std::vector<std::vector<Vector>> keys, values;
  };

  // Draws every parameter from rng.gauss(0, 0.08) in ParamLayout's order. The
  // parameters are borrowed by, or kept in, `policy` (core/parameters.hpp).
  Gpt(const ModelConfig& config, int vocab_size, Rng& rng, Policy& policy)
      : config_(config), layout_(config, vocab_size), params_(policy, layout_.total) {
    for (Node& p : params_.nodes()) p.data = rng.gauss(0, 0.08);
  }

  // Valid until the policy's next make().
  std::span<Node> params() { return params_.nodes(); }
  const ModelConfig& config() const { return config_; }

  // gpt(token_id, pos_id, keys, values): the logits for the next token, the
  // row of first_logit made first (the target's, when training).
  Vector forward(Graph<Policy>& g, int token_id, int pos_id, KvCache& kv,
                 int first_logit = 0) const {
    Vector x;
    x.reserve(config_.n_embd);
    for (int i = 0; i < config_.n_embd; ++i) {
      x.push_back(g.add(at(layout_.wte, token_id, i), at(layout_.wpe, pos_id, i)));
    }
    x = rmsnorm(g, x);
    const int head_dim = config_.n_embd / config_.n_head;
    for (int li = 0; li < config_.n_layer; ++li) {
      const auto& layer = layout_.layers[li];
      Vector x_residual = x;
      x = rmsnorm(g, x);
      auto [q, k, v] = query_key_value(g, x, layer, kv.keys[li].empty());
      kv.keys[li].push_back(std::move(k));
      kv.values[li].push_back(std::move(v));
      Vector x_attn;
      x_attn.reserve(config_.n_embd);
      for (int hs = 0; hs < config_.n_embd; hs += head_dim) {
        attention_head(g, q, kv.keys[li], kv.values[li], hs, head_dim, x_attn);
      }
      x = linear(g, x_attn, layer.attn_wo);
      add_in_place(g, x, x_residual);
      x_residual = x;
      x = rmsnorm(g, x);
      x = linear(g, x, layer.mlp_fc1);
      relu_in_place(g, x);
      x = linear(g, x, layer.mlp_fc2);
      add_in_place(g, x, x_residual);
    }
    return linear(g, x, layout_.lm_head, first_logit);
  }

  // microgpt.py's loss on one document: the mean over its n positions of
  // -log softmax(logits)[next token]. kv and losses belong to the caller, who
  // decides when their handles go (Trainer: in the release phase).
  Ref loss(Graph<Policy>& g, const std::vector<int>& tokens, int n, KvCache& kv,
           Vector& losses) const {
    for (int pos = 0; pos < n; ++pos) {
      const int target = tokens[pos + 1];
      losses.push_back(position_loss(g, forward(g, tokens[pos], pos, kv, target), target));
    }
    return mean(g, losses);
  }

  // ---- the pieces of the model, static so that core/footprint.hpp can count
  // the nodes each makes by running it ----

  // sum(a(i) * b(i) for i in range(n)), where nearly all of a step's nodes
  // are made: Python's sum() starts from int 0, so the first product is
  // added to Value(0), and the generator interleaves products with sums.
  template <class A, class B>
  static Ref sum_of_products(Graph<Policy>& g, int n, A&& a, B&& b) {
    Ref acc = g.add(g.mul(a(0), b(0)), 0.0);
    for (int i = 1; i < n; ++i) acc = g.add(acc, g.mul(a(i), b(i)));
    return acc;
  }

  // ms = sum(xi * xi for xi in x) / len(x); scale = (ms + 1e-5) ** -0.5
  static Vector rmsnorm(Graph<Policy>& g, const Vector& x) {
    const auto xi = [&x](int i) -> const Ref& { return x[i]; };
    Ref ms = sum_of_products(g, int(x.size()), xi, xi);
    ms = g.div(ms, double(x.size()));
    Ref scale = g.pow(g.add(ms, 1e-5), -0.5);
    Vector out;
    out.reserve(x.size());
    for (const Ref& x_i : x) out.push_back(g.mul(x_i, scale));
    return out;
  }

  static Vector softmax(Graph<Policy>& g, const Vector& logits) {
    double max_val = g.node(logits[0]).data;
    for (const Ref& v : logits) max_val = g.node(v).data > max_val ? g.node(v).data : max_val;
    Vector exps;
    exps.reserve(logits.size());
    for (const Ref& v : logits) exps.push_back(g.exp(g.sub(v, max_val)));
    Ref total = g.sum(exps);
    Vector probs;
    probs.reserve(exps.size());
    for (const Ref& e : exps) probs.push_back(g.div(e, total));
    return probs;
  }

  // One head of causal attention: the query's entries [hs, hs + head_dim)
  // against every key so far (attn_logits, softmax), then the weighted sums
  // of the values, appended to `out`.
  static void attention_head(Graph<Policy>& g, const Vector& q, const std::vector<Vector>& keys,
                             const std::vector<Vector>& values, int hs, int head_dim, Vector& out) {
    Vector attn_logits;
    for (const Vector& key : keys) {
      Ref dot = sum_of_products(
          g, head_dim, [&](int j) -> const Ref& { return q[hs + j]; },
          [&](int j) -> const Ref& { return key[hs + j]; });
      attn_logits.push_back(g.div(dot, python_pow(double(head_dim), 0.5)));
    }
    Vector attn_weights = softmax(g, attn_logits);
    for (int j = 0; j < head_dim; ++j) {
      out.push_back(sum_of_products(
          g, int(values.size()), [&](int t) -> const Ref& { return attn_weights[t]; },
          [&](int t) -> const Ref& { return values[t][hs + j]; }));
    }
  }

  // x[i] = x[i] + y[i], the residual connections.
  static void add_in_place(Graph<Policy>& g, Vector& x, const Vector& y) {
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = g.add(x[i], y[i]);
  }

  static void relu_in_place(Graph<Policy>& g, Vector& x) {
    for (Ref& xi : x) xi = g.relu(xi);
  }

  // -log(softmax(logits)[target]): a position's term of the loss.
  static Ref position_loss(Graph<Policy>& g, const Vector& logits, int target) {
    return g.neg(g.log(softmax(g, logits)[target]));
  }

  // sum(losses) * (1 / n)
  static Ref mean(Graph<Policy>& g, const Vector& losses) {
    return g.mul(g.sum(losses), 1.0 / double(losses.size()));
  }

  // softmax([logit / temperature for logit in logits]), dividing in place.
  static Vector sampling_probabilities(Graph<Policy>& g, Vector& logits, double temperature) {
    for (Ref& l : logits) l = g.div(l, temperature);
    return softmax(g, logits);
  }

 private:
  // [sum(wi * xi for wi, xi in zip(wo, x)) for wo in w], row first_row made first.
  Vector linear(Graph<Policy>& g, const Vector& x, const Matrix& w, int first_row = 0) const {
    Vector out(w.rows);
    out[first_row] = row(g, x, w, first_row);
    for (int o = 0; o < w.rows; ++o) {
      if (o != first_row) out[o] = row(g, x, w, o);
    }
    return out;
  }

  // linear(x, attn_wq), linear(x, attn_wk), linear(x, attn_wv), their rows made
  // head by head, as the DFS first reaches them through the head's attention:
  // its query rows, then its key rows, then its value rows. The first attention
  // logit pairs query row j with row j of position 0's key, so at position 0,
  // where that key is this position's own, query and key rows alternate.
  std::tuple<Vector, Vector, Vector> query_key_value(Graph<Policy>& g, const Vector& x,
                                                     const typename ParamLayout::Layer& layer,
                                                     bool only_key) const {
    const int head_dim = config_.n_embd / config_.n_head;
    Vector q(config_.n_embd), k(config_.n_embd), v(config_.n_embd);
    for (int hs = 0; hs < config_.n_embd; hs += head_dim) {
      for (int j = hs; j < hs + head_dim; ++j) {
        q[j] = row(g, x, layer.attn_wq, j);
        if (only_key) k[j] = row(g, x, layer.attn_wk, j);
      }
      if (!only_key) {
        for (int j = hs; j < hs + head_dim; ++j) k[j] = row(g, x, layer.attn_wk, j);
      }
      for (int j = hs; j < hs + head_dim; ++j) v[j] = row(g, x, layer.attn_wv, j);
    }
    return {std::move(q), std::move(k), std::move(v)};
  }

  // Row o of linear(x, w). Flattened so that every policy's make() is inlined
  // here alike: this is where nearly all nodes are made, and GCC's own
  // heuristics inline make() for some policies and call it for others.
  [[gnu::flatten]] Ref row(Graph<Policy>& g, const Vector& x, const Matrix& w, int o) const {
    const Ref* w_o = &at(w, o, 0);
    return sum_of_products(
        g, w.cols, [w_o](int i) -> const Ref& { return w_o[i]; },
        [&x](int i) -> const Ref& { return x[i]; });
  }

  const Ref& at(const Matrix& m, int row, int col) const {
    return params_.ref(m.first + std::size_t(row) * m.cols + col);
  }

  ModelConfig config_;
  ParamLayout layout_;
  Parameters<Policy> params_;
};

}  // namespace mga
