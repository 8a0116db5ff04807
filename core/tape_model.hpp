// microgpt on the tapes (core/tape.hpp): the same model, initialisation, data
// order, Adam and sampling as Gpt + run_microgpt (core/model.hpp,
// core/train.hpp), with flat buffers and fused operations instead of a heap
// node per scalar.
//
// TapeMode::fast (--engine tape) is the ceiling at the hardware's speed: its
// forward has the node graph's bits, its backward and Adam do not (gradients
// summed in vector lanes, Adam with reciprocals and sqrt). TapeMode::exact
// (--engine tape-exact) is the ceiling for the same arithmetic: backward adds
// every gradient in the node graph's order and Adam is Trainer's, so every
// loss and parameter has the node graph's bits.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/dataset.hpp"
#include "core/model.hpp"
#include "core/python_pow.hpp"
#include "core/rng.hpp"
#include "core/tape.hpp"
#include "core/tape_exact.hpp"
#include "core/tape_fast.hpp"
#include "core/train.hpp"

namespace mga {

enum class TapeMode { fast, exact };

// Trainer's counterpart (train_step, sample, ...): the parameters, the tape
// and Adam's moments.
template <TapeMode Mode>
class TapeTrainer {
 public:
  // Draws the parameters from rng in ParamLayout's order, as Gpt does, so
  // call it where microgpt.py builds state_dict.
  TapeTrainer(const Dataset& data, const RunConfig& config, Rng& rng)
      : data_(data),
        config_(config),
        layout_(config.model, data.vocab_size()),
        positions_(training_positions(data, config.model)),
        net_(config.model, data.vocab_size(), positions_),
        w_(net_.shape().num_params, 0.0),
        backward_(make_backward()) {
    const auto& index = net_.shape().tape_index;
    for (std::size_t i = 0; i < layout_.total; ++i) w_[index[i]] = rng.gauss(0, 0.08);
    const std::size_t n = Mode == TapeMode::fast ? w_.size() : layout_.total;
    if constexpr (Mode == TapeMode::exact) {
      p_.resize(n);
      for (std::size_t i = 0; i < n; ++i) p_[i] = w_[index[i]];
    }
    dp_.assign(n, 0.0);
    m_.assign(n, 0.0);
    v_.assign(n, 0.0);
  }

  TapeTrainer(const TapeTrainer&) = delete;  // backward_ refers to layout_
  TapeTrainer& operator=(const TapeTrainer&) = delete;

  // Forward and backward on `doc`: returns the loss and adds d loss / d
  // params to the gradients (adam_update zeroes them).
  double loss_and_grads(std::span<const std::uint32_t> doc, PhaseSeconds& phases) {
    using Clock = std::chrono::steady_clock;
    auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
    const int n = step_tokens(doc, data_.bos(), config_.model.block_size, tokens_);

    const auto t0 = Clock::now();
    net_.forward(w_.data(), tokens_.data(), 0, n);
    double total = 0;  // sum(losses), from 0 as Python's sum()
    for (int pos = 0; pos < n; ++pos) total += net_.cross_entropy(pos, tokens_[pos + 1]);
    const double loss = total * (1.0 / n);
    const auto t1 = Clock::now();
    phases.forward += seconds(t1 - t0);

    if constexpr (Mode == TapeMode::fast) {
      backward_.run(net_, w_.data(), dp_.data(), tokens_, n);
    } else {
      backward_.run(net_, p_.data(), dp_.data(), tokens_, n);
    }
    phases.backward += seconds(Clock::now() - t1);
    ops_ += std::uint64_t(n) * ops_per_position() + 1;
    return loss;
  }

  // One training step (step counts from 0): loss_and_grads, then Adam.
  double train_step(std::span<const std::uint32_t> doc, int step, PhaseSeconds& phases) {
    const double loss = loss_and_grads(doc, phases);
    const auto t0 = std::chrono::steady_clock::now();
    adam_update(step);
    phases.adam += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return loss;
  }

  // One name sampled at `temperature` (token ids, BOS excluded).
  std::vector<std::uint32_t> sample(Rng& rng, double temperature) {
    std::vector<std::uint32_t> tokens;
    const int vocab = data_.vocab_size();
    const double inv_temperature = python_pow(temperature, -1.0);  // `logit / temperature`
    logits_.resize(vocab);
    weights_.resize(vocab);
    int token_id = data_.bos();
    for (int pos = 0; pos < config_.model.block_size; ++pos) {
      net_.forward(w_.data(), &token_id, pos, pos + 1);
      const double* logits = net_.logits(pos);
      for (int i = 0; i < vocab; ++i) logits_[i] = logits[i] * inv_temperature;
      TapeGpt::softmax(logits_.data(), weights_.data(), vocab);
      token_id = int(rng.choose(weights_));
      if (token_id == data_.bos()) break;
      tokens.push_back(std::uint32_t(token_id));
    }
    return tokens;
  }

  std::size_t num_params() const { return layout_.total; }
  // The parameters and their gradients in ParamLayout's order (for tests).
  std::vector<double> params() const { return in_layout_order(w_); }
  std::vector<double> grads() const {
    return Mode == TapeMode::fast ? in_layout_order(dp_)
                                  : std::vector<double>(dp_.begin(), dp_.end());
  }
  // Fused operations run by training, the tape's counterpart of graph nodes.
  std::uint64_t nodes_created() const { return ops_; }
  // Not counted: training allocates nothing after the construction, unless a
  // document is longer than the data's longest (sampling may grow the KV cache).
  AllocStats alloc_stats() const { return {}; }

 private:
  using Backward = std::conditional_t<Mode == TapeMode::fast, TapeFastBackward, TapeExactBackward>;
  Backward make_backward() const {
    if constexpr (Mode == TapeMode::fast) {
      return Backward(positions_);
    } else {
      return Backward(net_.shape(), layout_, positions_);
    }
  }

  // The positions of the longest training step on `data`, which the tape is
  // made for: a step on a longer document, or a longer sample, grows it.
  static int training_positions(const Dataset& data, const ModelConfig& model) {
    return int(std::min<std::size_t>(std::size_t(model.block_size), data.docs.longest() + 1));
  }

  // Per position: embedding, rmsnorm, per layer rmsnorm, qkv, attention, wo,
  // add, rmsnorm, fc1, relu, fc2, add, then lm_head and cross-entropy; and
  // the step's mean.
  int ops_per_position() const { return 4 + 10 * config_.model.n_layer; }

  template <class Vector>
  std::vector<double> in_layout_order(const Vector& tape_order) const {
    std::vector<double> out(layout_.total);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = tape_order[net_.shape().tape_index[i]];
    return out;
  }

  void adam_update(int step) {
    if constexpr (Mode == TapeMode::exact) {
      adam_exact(step);
    } else {
      adam_fast(step);
    }
  }

  // Trainer's update (AdamStep::update), kLanes parameters at a time: the same
  // operations lane by lane (+, *, / are IEEE's, so a lane has a scalar's
  // bits), Python's ** still libm's pow (python_pow), one lane at a time; then
  // the forward's copy of each parameter.
  void adam_exact(int step) {
    using simd::vd;
    const AdamStep adam(step, config_.steps);
    const AdamConfig& c = adam.adam;
    const vd beta1 = simd::splat(c.beta1), beta2 = simd::splat(c.beta2);
    const vd one_minus_beta1 = simd::splat(1 - c.beta1), one_minus_beta2 = simd::splat(1 - c.beta2);
    const vd m_correction = simd::splat(adam.m_correction);
    const vd v_correction = simd::splat(adam.v_correction);
    const vd lr_t = simd::splat(adam.lr_t), eps = simd::splat(c.eps);
    const auto& index = net_.shape().tape_index;
    const std::size_t n = p_.size();
    std::size_t i = 0;
    for (; i + simd::kLanes <= n; i += simd::kLanes) {
      const vd grad = simd::loadu(dp_.data() + i);
      vd grad_squared, root;
      for (int k = 0; k < simd::kLanes; ++k) grad_squared[k] = python_pow(grad[k], 2);
      const vd m = beta1 * simd::loadu(m_.data() + i) + one_minus_beta1 * grad;
      const vd v = beta2 * simd::loadu(v_.data() + i) + one_minus_beta2 * grad_squared;
      simd::storeu(m_.data() + i, m);
      simd::storeu(v_.data() + i, v);
      const vd m_hat = m / m_correction;
      const vd v_hat = v / v_correction;
      for (int k = 0; k < simd::kLanes; ++k) root[k] = python_pow(v_hat[k], 0.5);
      const vd p = simd::loadu(p_.data() + i) - lr_t * m_hat / (root + eps);
      simd::storeu(p_.data() + i, p);
      simd::storeu(dp_.data() + i, vd{});
      for (int k = 0; k < simd::kLanes; ++k) w_[index[i + k]] = p[k];
    }
    for (; i < n; ++i) {
      adam.update(p_[i], dp_[i], m_[i], v_[i]);
      w_[index[i]] = p_[i];
    }
  }

  // The same update with its per-step constants hoisted, reciprocals for
  // microgpt.py's two divisions by the bias corrections, grad * grad for
  // `grad ** 2` and sqrt for `** 0.5`: last-bit differences. Padding lanes
  // stay 0 (no gradient, no moment).
  void adam_fast(int step) {
    using simd::vd;
    const AdamConfig adam;
    const double lr_t = adam.learning_rate * (1 - double(step) / config_.steps);
    const double inv_m_correction = 1 / (1 - python_pow(adam.beta1, step + 1));
    const double inv_v_correction = 1 / (1 - python_pow(adam.beta2, step + 1));
    const vd beta1 = simd::splat(adam.beta1), beta2 = simd::splat(adam.beta2);
    const vd one_minus_beta1 = simd::splat(1 - adam.beta1),
             one_minus_beta2 = simd::splat(1 - adam.beta2);
    const vd inv_mc = simd::splat(inv_m_correction), inv_vc = simd::splat(inv_v_correction);
    const vd lr = simd::splat(lr_t), eps = simd::splat(adam.eps);
    double *p = w_.data(), *g = dp_.data(), *m = m_.data(), *v = v_.data();
    const std::size_t n = w_.size();  // a multiple of kPad
    for (std::size_t i = 0; i < n; i += simd::kLanes) {
      const vd grad = simd::load(g + i);
      const vd m_i = beta1 * simd::load(m + i) + one_minus_beta1 * grad;
      const vd v_i = beta2 * simd::load(v + i) + one_minus_beta2 * (grad * grad);
      simd::store(m + i, m_i);
      simd::store(v + i, v_i);
      simd::store(p + i,
                  simd::load(p + i) - lr * (m_i * inv_mc) / (simd::sqrt(v_i * inv_vc) + eps));
      simd::store(g + i, vd{});
    }
  }

  const Dataset& data_;
  RunConfig config_;
  ParamLayout layout_;
  int positions_;  // the longest training step's (the tape's initial size)
  TapeGpt net_;
  simd::Doubles w_;           // the forward's weights, tape order (fast: the parameters themselves)
  std::vector<double> p_;     // exact: the parameters, ParamLayout order (w_ holds a copy)
  simd::Doubles dp_, m_, v_;  // gradients and moments, in the parameters' order
  Backward backward_;
  std::vector<int> tokens_;
  std::vector<double> logits_, weights_;
  std::uint64_t ops_ = 0;
};

// microgpt.py on a tape: run_microgpt's program, printed lines, rng draws and
// RunResult fields. config.topo is ignored (the tape is its own order).
inline RunResult run_tape_microgpt(const Dataset& data, const RunConfig& config,
                                   const LineSink& print, TapeMode mode = TapeMode::fast) {
  return mode == TapeMode::fast ? run_training<TapeTrainer<TapeMode::fast>>(data, config, print)
                                : run_training<TapeTrainer<TapeMode::exact>>(data, config, print);
}

}  // namespace mga
