// Where the tapes (core/tape.hpp) keep everything for one model shape: the
// parameters in one flat array, and per position a record of activations and
// one of their gradients, as offsets computed once. Nothing here grows with
// block_size but wpe: a position's attention rows (one entry per earlier
// position) live outside the records, so the tapes' memory follows the
// positions a run uses (TapeGpt).
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

#include "core/model.hpp"
#include "core/python_pow.hpp"
#include "core/tape_kernels.hpp"
#include "core/tape_simd.hpp"

namespace mga {

// Where the tapes keep everything, for one model shape. Parameters in "tape
// order": wte and wpe row-major as in ParamLayout, every other matrix
// transposed (one row per input, the outputs side by side, padded to
// simd::kPad), so that a matrix-vector product computes several output rows
// at once; attn_wq, attn_wk and attn_wv side by side as one matrix.
struct TapeShape {
  // Index::skip leaves tape_index empty: the sizes alone, for memory estimates
  // of shapes too large to map (core/footprint.hpp).
  enum class Index { build, skip };

  TapeShape(const ModelConfig& config, int vocab_size, Index index = Index::build)
      : embd(config.n_embd),
        heads(config.n_head),
        head_dim(config.n_embd / config.n_head),
        layers(config.n_layer),
        block(config.block_size),
        vocab(vocab_size),
        hidden(4 * config.n_embd),
        embd_p(simd::padded(embd)),
        hidden_p(simd::padded(hidden)),
        vocab_p(simd::padded(vocab)),
        qkv_p(simd::padded(3 * embd)),
        kv_stride(std::size_t(layers) * qkv_p) {
    auto param = [this](std::size_t n) {
      const std::size_t at = num_params;
      num_params += (n + simd::kPad - 1) / simd::kPad * simd::kPad;  // simd::padded, unbounded
      return at;
    };
    auto matrix = [&param](int rows, int cols) {
      return TapeMatrix{param(std::size_t(cols) * rows), rows, cols};
    };
    wte = param(std::size_t(vocab) * embd);
    wpe = param(std::size_t(block) * embd);
    lm_head = matrix(vocab_p, embd);
    for (int l = 0; l < layers; ++l) {
      layer_params.push_back({.qkv = matrix(qkv_p, embd),
                              .wo = matrix(embd_p, embd),
                              .fc1 = matrix(hidden_p, embd),
                              .fc2 = matrix(embd_p, hidden)});
    }
    if (index == Index::build) map_parameters(ParamLayout(config, vocab_size));

    auto act = [this](int n) {
      const int at = record;
      record += simd::padded(n);
      return at;
    };
    emb = act(embd);
    x0 = act(embd);
    norm0 = act(2);
    for (int l = 0; l < layers; ++l) {
      layer_acts.push_back({.xn1 = act(embd),
                            .att_total = act(heads),
                            .xa = act(embd),
                            .x1 = act(embd),
                            .xn2 = act(embd),
                            .hp = act(hidden),
                            .h = act(hidden),
                            .x2 = act(embd),
                            .norms = act(4)});
    }
    exps = act(vocab);
    probs = act(vocab);
    ce = act(3);

    auto grad = [this](int n) {
      const int at = grad_record;
      grad_record += simd::padded(n);
      return at;
    };
    dlogits = grad(vocab);
    dx0 = grad(embd);
    dxn = grad(embd);
    for (int l = 0; l < layers; ++l) {
      layer_grads.push_back(
          {.dx2 = grad(embd), .dhp = grad(hidden), .dx1 = grad(embd), .dxa = grad(embd)});
    }
  }

  int embd, heads, head_dim, layers, block, vocab, hidden;
  int embd_p, hidden_p, vocab_p, qkv_p;  // padded to simd::kPad
  // The KV cache keeps a position's [q | k | v] of every layer together:
  // doubles from one position's to the next's.
  std::size_t kv_stride;
  // Doubles of attention rows per key a position attends to: per layer and
  // head, the exp(logit - max) and the weight (TapeGpt::attention_exps).
  int attention_per_key() const { return 2 * layers * heads; }
  // `/ head_dim**0.5` is `* (head_dim**0.5)**-1` (Graph::div)
  double inv_sqrt_head_dim = python_pow(python_pow(double(head_dim), 0.5), -1.0);
  double inv_embd = python_pow(double(embd), -1.0);  // rmsnorm's `/ len(x)`, the same way

  // ---- parameters, tape order ----
  // A transposed matrix's place among the parameters (simd::Transposed).
  struct TapeMatrix {
    std::size_t at = 0;  // its first parameter
    int rows = 0;        // outputs, padded
    int cols = 0;        // inputs
    simd::Transposed<const double> in(const double* w) const { return {w + at, rows, cols}; }
    simd::Transposed<double> in(double* w) const { return {w + at, rows, cols}; }
  };
  struct LayerParams {
    TapeMatrix qkv, wo, fc1, fc2;  // qkv: embd rows of [q | k | v], qkv_p long
  };
  std::size_t num_params = 0;  // with padding
  std::size_t wte = 0, wpe = 0;
  TapeMatrix lm_head;
  std::vector<LayerParams> layer_params;
  std::vector<std::size_t> tape_index;  // ParamLayout's index of a parameter -> tape order

  // ---- one position's record of activations (offsets into it) ----
  struct LayerActs {
    int xn1;        // rmsnorm(x), the input of q, k, v
    int att_total;  // per head: the sum of the exps (the exps and weights: TapeGpt)
    int xa;         // attention output
    int x1;         // after the attention's residual add
    int xn2;        // rmsnorm(x1)
    int hp, h;      // fc1 output, relu of it
    int x2;         // the layer's output
    int norms;      // [ms + 1e-5, scale] of the two rmsnorms
  };
  int record = 0;  // doubles per position
  int emb = 0, x0 = 0, norm0 = 0;
  std::vector<LayerActs> layer_acts;
  int exps = 0, probs = 0;  // vocab long: logits become exps in place
  int ce = 0;               // [sum of exps, its **-1, loss]
  // The activations' inputs to the layers: x0, then each layer's x2.
  int layer_input(int l) const { return l == 0 ? x0 : layer_acts[l - 1].x2; }

  // ---- one position's record of gradients (d loss / d activation) ----
  struct LayerGrads {
    int dx2;  // the layer's output (fc2's output gradient)
    int dhp;  // fc1's output (after relu's mask)
    int dx1;  // after the attention's residual add (wo's output gradient)
    int dxa;  // the attention's output
  };
  int grad_record = 0;  // doubles per position
  int dlogits = 0;      // lm_head's output gradient
  int dx0 = 0;          // x0: the first layer's input (the layer above's input is its dx2)
  int dxn = 0;          // scratch: an rmsnorm's output gradient
  std::vector<LayerGrads> layer_grads;
  int layer_input_grad(int l) const { return l == 0 ? dx0 : layer_grads[l - 1].dx2; }
  int top_grad() const { return layer_input_grad(layers); }

 private:
  void map_parameters(const ParamLayout& layout) {
    tape_index.resize(layout.total);
    auto rows = [this](const Matrix& m, std::size_t at) {
      for (std::size_t i = 0; i < std::size_t(m.rows) * m.cols; ++i)
        tape_index[m.first + i] = at + i;
    };
    auto transposed = [this](const Matrix& m, const TapeMatrix& to, int first_row) {
      for (int o = 0; o < m.rows; ++o) {
        for (int i = 0; i < m.cols; ++i)
          tape_index[m.first + std::size_t(o) * m.cols + i] =
              to.at + std::size_t(i) * to.rows + first_row + o;
      }
    };
    rows(layout.wte, wte);
    rows(layout.wpe, wpe);
    transposed(layout.lm_head, lm_head, 0);
    for (int l = 0; l < layers; ++l) {
      const auto& from = layout.layers[l];
      const auto& to = layer_params[l];
      transposed(from.attn_wq, to.qkv, 0);
      transposed(from.attn_wk, to.qkv, embd);
      transposed(from.attn_wv, to.qkv, 2 * embd);
      transposed(from.attn_wo, to.wo, 0);
      transposed(from.mlp_fc1, to.fc1, 0);
      transposed(from.mlp_fc2, to.fc2, 0);
    }
  }
};

}  // namespace mga
