// The tape engines (--engine tape and --engine tape-exact): microgpt without
// nodes. The parameters are one flat array; a step keeps, for each position,
// the activations backward needs in one flat record (and their gradients in
// another), and the query, key and value of every position in a KV cache.
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

#include <cmath>
#include <cstddef>
#include <vector>

#include "core/model.hpp"
#include "core/python_pow.hpp"
#include "core/tape_kernels.hpp"
#include "core/tape_shape.hpp"

namespace mga {

// The forward pass over weights in tape order, and the step's storage: a
// record of activations and one of gradients per position, and the KV cache
// (with room for its gradients).
class TapeGpt {
 public:
  TapeGpt(const ModelConfig& config, int vocab_size)
      : shape_(config, vocab_size),
        records_(std::size_t(shape_.block) * shape_.record, 0.0),
        grads_(std::size_t(shape_.block) * shape_.grad_record, 0.0),
        cache_(std::size_t(shape_.layers) * shape_.block * shape_.qkv_p, 0.0),
        dcache_(cache_.size(), 0.0) {}

  const TapeShape& shape() const { return shape_; }
  double* record(int pos) { return records_.data() + std::size_t(pos) * shape_.record; }
  double* grad(int pos) { return grads_.data() + std::size_t(pos) * shape_.grad_record; }
  // [q | k | v] of a position, and d loss / d them.
  double* qkv(int layer, int pos) { return cache_.data() + cache_offset(layer, pos); }
  double* dqkv(int layer, int pos) { return dcache_.data() + cache_offset(layer, pos); }
  double* logits(int pos) { return record(pos) + shape_.exps; }

  // gpt(token_id, pos_id, keys, values) for positions [first, end) of one
  // document, tokens[k] at position first + k, with weights w (tape order):
  // fills their records and the cache (positions before `first` must be in
  // it), and leaves their logits at logits(pos).
  void forward(const double* w, const int* tokens, int first, int end) {
    const TapeShape& s = shape_;
    const std::size_t rec = std::size_t(s.record), qkv_p = std::size_t(s.qkv_p);
    const int n = end - first;
    double* r0 = record(first);
    for (int pos = first; pos < end; ++pos) {
      double* r = record(pos);
      const double* wte = w + s.wte + std::size_t(tokens[pos - first]) * s.embd;
      const double* wpe = w + s.wpe + std::size_t(pos) * s.embd;
      for (int i = 0; i < s.embd; ++i) r[s.emb + i] = wte[i] + wpe[i];
      rmsnorm(r + s.emb, r + s.x0, r + s.norm0);
    }
    for (int l = 0; l < s.layers; ++l) {
      const auto& a = s.layer_acts[l];
      const auto& p = s.layer_params[l];
      for (int pos = first; pos < end; ++pos) {
        double* r = record(pos);
        rmsnorm(r + s.layer_input(l), r + a.xn1, r + a.norms);
      }
      simd::matmul(w + p.qkv, s.qkv_p, r0 + a.xn1, rec, s.embd, qkv(l, first), qkv_p, n);
      for (int pos = first; pos < end; ++pos) attention(l, pos, record(pos));
      simd::matmul(w + p.wo, s.embd_p, r0 + a.xa, rec, s.embd, r0 + a.x1, rec, n);
      for (int pos = first; pos < end; ++pos) {
        double* r = record(pos);
        const double* x = r + s.layer_input(l);
        for (int i = 0; i < s.embd; ++i) r[a.x1 + i] = r[a.x1 + i] + x[i];  // wo(xa) + x
        rmsnorm(r + a.x1, r + a.xn2, r + a.norms + 2);
      }
      simd::matmul(w + p.fc1, s.hidden_p, r0 + a.xn2, rec, s.embd, r0 + a.hp, rec, n);
      for (int pos = first; pos < end; ++pos) {
        double* r = record(pos);
        simd::where_positive(r + a.hp, r + a.hp, r + a.h, s.hidden_p);  // relu
      }
      simd::matmul(w + p.fc2, s.embd_p, r0 + a.h, rec, s.hidden, r0 + a.x2, rec, n);
      for (int pos = first; pos < end; ++pos) {
        double* r = record(pos);
        for (int i = 0; i < s.embd; ++i) r[a.x2 + i] = r[a.x2 + i] + r[a.x1 + i];  // fc2 + x1
      }
    }
    simd::matmul(w + s.lm_head, s.vocab_p, r0 + s.layer_input(s.layers), rec, s.embd, r0 + s.exps,
                 rec, n);
  }

  // -log(softmax(logits)[target]) of position pos; the logits become exps.
  double cross_entropy(int pos, int target) {
    double* r = record(pos);
    const TapeShape& s = shape_;
    r[s.ce] = softmax(r + s.exps, r + s.probs, s.vocab);
    r[s.ce + 1] = python_pow(r[s.ce], -1.0);
    r[s.ce + 2] = -std::log(r[s.probs + target]);
    return r[s.ce + 2];
  }

  // microgpt.py's softmax: x becomes exp(x - max), probs each exp times
  // sum**-1 (libm's pow, as in Graph::div). Returns the sum.
  static double softmax(double* x, double* probs, int n) {
    double max_val = x[0];
    for (int i = 1; i < n; ++i) max_val = x[i] > max_val ? x[i] : max_val;
    double total = 0;
    for (int i = 0; i < n; ++i) total += (x[i] = std::exp(x[i] - max_val));
    const double inv = python_pow(total, -1.0);
    for (int i = 0; i < n; ++i) probs[i] = x[i] * inv;
    return total;
  }

 private:
  std::size_t cache_offset(int layer, int pos) const {
    return (std::size_t(layer) * shape_.block + pos) * shape_.qkv_p;
  }

  // ms = sum(xi * xi) / n; scale = (ms + 1e-5) ** -0.5; [xi * scale]
  void rmsnorm(const double* x, double* out, double* saved) const {
    double ms = 0;
    for (int i = 0; i < shape_.embd; ++i) ms += x[i] * x[i];
    saved[0] = ms * shape_.inv_embd + 1e-5;
    saved[1] = python_pow(saved[0], -0.5);
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
    const std::size_t stride = std::size_t(s.qkv_p);
    const double* q = qkv(layer, pos);
    const double* keys = qkv(layer, 0) + s.embd;
    const double* values = qkv(layer, 0) + 2 * s.embd;
    double* __restrict exps = r + a.att_exp;  // head h's at h * block
    double* __restrict weights = r + a.att_w;
    double* __restrict totals = r + a.att_total;
    for (int h = 0; h < s.heads; ++h) {  // attn_logits = q . k_t / head_dim**0.5
      for (int t = 0; t < positions; ++t) {
        const double* k = keys + t * stride + h * hd;
        double dot = 0;
        for (int j = 0; j < hd; ++j) dot += q[h * hd + j] * k[j];
        exps[h * s.block + t] = dot * s.inv_sqrt_head_dim;
      }
    }
    for (int h = 0; h < s.heads; ++h) {  // exp(logit - max)
      double* e = exps + h * s.block;
      double max_val = e[0];
      for (int t = 1; t < positions; ++t) max_val = e[t] > max_val ? e[t] : max_val;
      for (int t = 0; t < positions; ++t) e[t] = std::exp(e[t] - max_val);
    }
    for (int h = 0; h < s.heads; ++h) {  // their sum, from 0, and exp * sum**-1
      double total = 0;
      for (int t = 0; t < positions; ++t) total += exps[h * s.block + t];
      totals[h] = total;
      const double inv = python_pow(total, -1.0);
      for (int t = 0; t < positions; ++t) weights[h * s.block + t] = exps[h * s.block + t] * inv;
    }
    for (int h = 0; h < s.heads; ++h) {  // out_j = sum_t w_t v_t[j]
      for (int j = 0; j < hd; ++j) {
        double out = 0;
        for (int t = 0; t < positions; ++t)
          out += weights[h * s.block + t] * values[t * stride + h * hd + j];
        r[a.xa + h * hd + j] = out;
      }
    }
  }

  TapeShape shape_;
  simd::Doubles records_, grads_, cache_, dcache_;
};

}  // namespace mga
