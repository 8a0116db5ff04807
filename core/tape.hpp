// The tape engines (--engine tape and --engine tape-exact): microgpt without
// nodes. The parameters are one flat array; a step keeps, for each position,
// the activations backward needs in one flat record (and their gradients in
// another) and its attention rows, and the query, key and value of every
// position in a KV cache, all sized for the positions used (TapeGpt).
// core/tape_shape.hpp lays them out; this file runs the forward pass, which
// both tapes share: every value is computed from the same operands, summed in
// the same order, as microgpt.py (and Gpt in core/model.hpp) computes it, so a
// step's loss has the node graph's bits. The two backward passes are core/tape_fast.hpp
// and core/tape_exact.hpp, the training loop core/tape_model.hpp.
//
// A document's positions go through each stage together (all embeddings,
// then each layer's q, k, v, its attention, the rest of the layer, then the
// logits): within a stage the positions do not depend on one another, so the
// processor overlaps them; only attention needs the earlier positions' keys
// and values, which the stage before has made.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/model.hpp"
#include "core/ops.hpp"
#include "core/tape_kernels.hpp"
#include "core/tape_shape.hpp"

namespace mga {

// The forward pass over weights in tape order, and the storage of the
// positions it runs: per position of the last forward a record of
// activations, one of gradients and the position's attention rows (an exp
// and a weight per head for each position it attends to), and the KV cache
// of every position so far (with room for its gradients). Training runs a
// document's positions at once (first = 0) and keeps them all for backward;
// sampling runs one position at a time (first = pos), so only the KV cache
// grows with a sample. The storage is sized for the positions of a run's
// longest document and grows when a forward needs more: never with
// block_size alone.
class TapeGpt {
 public:
  TapeGpt(const ModelConfig& config, int vocab_size, int positions = 1)
      : shape_(config, vocab_size) {
    reserve(0, positions);
  }

  const TapeShape& shape() const { return shape_; }
  // Position pos of the last forward's [first, end).
  double* record(int pos) { return records_.data() + slot(pos) * shape_.record; }
  double* grad(int pos) { return grads_.data() + slot(pos) * shape_.grad_record; }
  double* logits(int pos) { return record(pos) + shape_.exps; }
  // Position pos's attention in a layer: head h's exp(logit - max) over
  // positions 0..pos at h * (pos + 1), the weights heads * (pos + 1) later.
  double* attention_exps(int layer, int pos) {
    const std::size_t keys = std::size_t(pos) + 1;
    return attention_.data() +
           (keys_before(pos) - keys_before(first_)) * shape_.attention_per_key() +
           std::size_t(layer) * 2 * shape_.heads * keys;
  }
  double* attention_weights(int layer, int pos) {
    return attention_exps(layer, pos) + std::size_t(shape_.heads) * (pos + 1);
  }
  // [q | k | v] of any position so far, and d loss / d them (a layer's
  // positions are shape().kv_stride apart).
  double* qkv(int layer, int pos) { return cache_.data() + cache_offset(layer, pos); }
  double* dqkv(int layer, int pos) { return dcache_.data() + cache_offset(layer, pos); }

  // The same, as the kernels read them: activation (or gradient) `offset` of
  // every position of the last forward, and a layer's cache from position pos.
  simd::Strided<double> activations(int offset) {
    return {record(first_) + offset, std::size_t(shape_.record)};
  }
  simd::Strided<double> gradients(int offset) {
    return {grad(first_) + offset, std::size_t(shape_.grad_record)};
  }
  simd::Strided<double> cache(int layer, int pos) { return {qkv(layer, pos), shape_.kv_stride}; }
  simd::Strided<double> dcache(int layer, int pos) { return {dqkv(layer, pos), shape_.kv_stride}; }

  // gpt(token_id, pos_id, keys, values) for positions [first, end) of one
  // document, tokens[k] at position first + k, with weights w (tape order):
  // fills their records and the cache (positions before `first` must be in
  // it), and leaves their logits at logits(pos). Each stage is one fused op
  // at each position, counted in fused_ops().
  void forward(const double* w, const int* tokens, int first, int end) {
    reserve(first, end);
    first_ = first;
    const TapeShape& s = shape_;
    const int n = end - first;
    const auto at_each_position = [&](auto&& op) {  // op(pos, its record)
      for (int pos = first; pos < end; ++pos) op(pos, record(pos));
      fused_ops_ += std::uint64_t(n);
    };
    const auto matmul = [&](const TapeShape::TapeMatrix& m, simd::Strided<const double> xs,
                            simd::Strided<double> outs) {
      simd::matmul(m.in(w), xs, outs, n);
      fused_ops_ += std::uint64_t(n);
    };
    at_each_position([&](int pos, double* r) {  // wte[token] + wpe[pos]
      const double* wte = w + s.wte + std::size_t(tokens[pos - first]) * s.embd;
      const double* wpe = w + s.wpe + std::size_t(pos) * s.embd;
      for (int i = 0; i < s.embd; ++i) r[s.emb + i] = wte[i] + wpe[i];
    });
    at_each_position([&](int, double* r) { rmsnorm(r + s.emb, r + s.x0, r + s.norm0); });
    for (int l = 0; l < s.layers; ++l) {
      const auto& a = s.layer_acts[l];
      const auto& p = s.layer_params[l];
      at_each_position(
          [&](int, double* r) { rmsnorm(r + s.layer_input(l), r + a.xn1, r + a.norms); });
      matmul(p.qkv, activations(a.xn1), cache(l, first));
      at_each_position([&](int pos, double* r) { attention(l, pos, r); });
      matmul(p.wo, activations(a.xa), activations(a.x1));
      at_each_position([&](int, double* r) {  // wo(xa) + x
        const double* x = r + s.layer_input(l);
        for (int i = 0; i < s.embd; ++i) r[a.x1 + i] = r[a.x1 + i] + x[i];
      });
      at_each_position([&](int, double* r) { rmsnorm(r + a.x1, r + a.xn2, r + a.norms + 2); });
      matmul(p.fc1, activations(a.xn2), activations(a.hp));
      at_each_position([&](int, double* r) {  // relu
        simd::where_positive(r + a.hp, r + a.hp, r + a.h, s.hidden_p);
      });
      matmul(p.fc2, activations(a.h), activations(a.x2));
      at_each_position([&](int, double* r) {  // fc2 + x1
        for (int i = 0; i < s.embd; ++i) r[a.x2 + i] = r[a.x2 + i] + r[a.x1 + i];
      });
    }
    matmul(s.lm_head, activations(s.layer_input(s.layers)), activations(s.exps));
  }

  // -log(softmax(logits)[target]) of position pos, a fused op; the logits become exps.
  double cross_entropy(int pos, int target) {
    double* r = record(pos);
    const TapeShape& s = shape_;
    r[s.ce] = softmax(r + s.exps, r + s.probs, s.vocab);
    r[s.ce + 1] = ops::Pow{-1.0}.value(r[s.ce]);
    r[s.ce + 2] = -ops::Log::value(r[s.probs + target]);
    ++fused_ops_;
    return r[s.ce + 2];
  }

  // Gpt::loss of the last forward's n positions, position pos predicting
  // tokens[pos + 1]: sum(losses) * (1 / n), from 0 as Python's sum(); the
  // mean is one more fused op.
  double loss(const int* tokens, int n) {
    double total = 0;
    for (int pos = 0; pos < n; ++pos) total += cross_entropy(pos, tokens[pos + 1]);
    ++fused_ops_;
    return total * (1.0 / n);
  }

  // Fused ops run so far: the tape's counterpart of the graph's nodes.
  std::uint64_t fused_ops() const { return fused_ops_; }

  // microgpt.py's softmax: x becomes exp(x - max), probs each exp times
  // sum**-1 (libm's pow, as in Graph::div). Returns the sum.
  static double softmax(double* x, double* probs, int n) {
    double max_val = x[0];
    for (int i = 1; i < n; ++i) max_val = x[i] > max_val ? x[i] : max_val;
    double total = 0;
    for (int i = 0; i < n; ++i) total += (x[i] = ops::Exp::value(x[i] - max_val));
    const double inv = ops::Pow{-1.0}.value(total);
    for (int i = 0; i < n; ++i) probs[i] = x[i] * inv;
    return total;
  }

 private:
  std::size_t slot(int pos) const { return std::size_t(pos - first_); }
  std::size_t cache_offset(int layer, int pos) const {
    return std::size_t(pos) * shape_.kv_stride + std::size_t(layer) * shape_.qkv_p;
  }
  // Keys attended to by positions 0..pos-1: 1 + 2 + ... + pos.
  static std::size_t keys_before(int pos) { return std::size_t(pos) * (pos + 1) / 2; }

  // Room for a forward over [first, end): records, gradients and attention
  // rows for its positions, the cache for positions 0..end-1. Buffers only
  // grow, and keep their contents (the cache's earlier positions).
  void reserve(int first, int end) {
    const TapeShape& s = shape_;
    const std::size_t n = std::size_t(end - first);
    auto grow = [](simd::Doubles& buffer, std::size_t size) {
      if (buffer.size() < size) buffer.resize(size);
    };
    grow(records_, n * s.record);
    grow(grads_, n * s.grad_record);
    grow(attention_, (keys_before(end) - keys_before(first)) * s.attention_per_key());
    grow(cache_, std::size_t(end) * s.kv_stride);
    grow(dcache_, std::size_t(end) * s.kv_stride);
  }

  // ms = sum(xi * xi) / n; scale = (ms + 1e-5) ** -0.5; [xi * scale]
  void rmsnorm(const double* x, double* out, double* saved) const {
    double ms = 0;
    for (int i = 0; i < shape_.embd; ++i) ms += x[i] * x[i];
    saved[0] = ms * shape_.inv_embd + 1e-5;
    saved[1] = ops::Pow{-0.5}.value(saved[0]);
    for (int i = 0; i < shape_.embd; ++i) out[i] = x[i] * saved[1];
  }

  // Causal attention of position pos's query over positions 0..pos, every
  // head; head_dim known at compile time when small (HeadDim 0: not).
  void attention(int layer, int pos, double* r) {
    if (shape_.head_dim <= 8) {
      simd::with_constant<8>(shape_.head_dim, [&](auto hd) { attention<hd()>(layer, pos, r); });
    } else {
      attention<0>(layer, pos, r);
    }
  }

  // Each step for every head before the next step, so the heads' independent
  // work overlaps (the exps above all); each head's softmax is softmax()'s
  // arithmetic.
  template <int HeadDim>
  void attention(int layer, int pos, double* r) {
    const TapeShape& s = shape_;
    const auto& a = s.layer_acts[layer];
    const int positions = pos + 1, hd = HeadDim > 0 ? HeadDim : s.head_dim;
    const std::size_t stride = s.kv_stride;
    const double* q = qkv(layer, pos);
    const double* keys = qkv(layer, 0) + s.embd;
    const double* values = qkv(layer, 0) + 2 * s.embd;
    double* __restrict exps = attention_exps(layer, pos);  // head h's at h * positions
    double* __restrict weights = attention_weights(layer, pos);
    double* __restrict totals = r + a.att_total;
    for (int h = 0; h < s.heads; ++h) {  // attn_logits = q . k_t / head_dim**0.5
      for (int t = 0; t < positions; ++t) {
        const double* k = keys + t * stride + h * hd;
        double dot = 0;
        for (int j = 0; j < hd; ++j) dot += q[h * hd + j] * k[j];
        exps[h * positions + t] = dot * s.inv_sqrt_head_dim;
      }
    }
    for (int h = 0; h < s.heads; ++h) {  // exp(logit - max)
      double* e = exps + h * positions;
      double max_val = e[0];
      for (int t = 1; t < positions; ++t) max_val = e[t] > max_val ? e[t] : max_val;
      for (int t = 0; t < positions; ++t) e[t] = ops::Exp::value(e[t] - max_val);
    }
    for (int h = 0; h < s.heads; ++h) {  // their sum, from 0, and exp * sum**-1
      double total = 0;
      for (int t = 0; t < positions; ++t) total += exps[h * positions + t];
      totals[h] = total;
      const double inv = ops::Pow{-1.0}.value(total);
      for (int t = 0; t < positions; ++t)
        weights[h * positions + t] = exps[h * positions + t] * inv;
    }
    for (int h = 0; h < s.heads; ++h) {  // out_j = sum_t w_t v_t[j]
      for (int j = 0; j < hd; ++j) {
        double out = 0;
        for (int t = 0; t < positions; ++t)
          out += weights[h * positions + t] * values[t * stride + h * hd + j];
        r[a.xa + h * hd + j] = out;
      }
    }
  }

  TapeShape shape_;
  int first_ = 0;  // the last forward's first position: record(first_) is the first record
  std::uint64_t fused_ops_ = 0;
  simd::Doubles records_, grads_, attention_, cache_, dcache_;
};

}  // namespace mga
