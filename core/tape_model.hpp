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
    const double loss = net_.loss(tokens_.data(), n);
    const auto t1 = Clock::now();
    phases.forward += seconds(t1 - t0);

    if constexpr (Mode == TapeMode::fast) {
      backward_.run(net_, w_.data(), dp_.data(), tokens_, n);
    } else {
      backward_.run(net_, p_.data(), dp_.data(), tokens_, n);
    }
    phases.backward += seconds(Clock::now() - t1);
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
  // Fused operations run so far (TapeGpt::fused_ops), the tape's counterpart of graph nodes.
  std::uint64_t nodes_created() const { return net_.fused_ops(); }
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

  template <class Vector>
  std::vector<double> in_layout_order(const Vector& tape_order) const {
    std::vector<double> out(layout_.total);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = tape_order[net_.shape().tape_index[i]];
    return out;
  }

  // Exact: Trainer's update, kLanes parameters at a time, then the forward's
  // copy of each parameter. Fast: the fast tape's arithmetic, over the padded
  // weights themselves (padding lanes stay 0: no gradient, no moment).
  void adam_update(int step) {
    const AdamStep adam_step(step, config_.steps);
    if constexpr (Mode == TapeMode::exact) {
      const auto& index = net_.shape().tape_index;
      double* w = w_.data();
      const auto copy_to_forward = [&index, w](std::size_t i, const auto& p) {
        if constexpr (sizeof(p) == sizeof(double)) {
          w[index[i]] = p;
        } else {
          for (int k = 0; k < simd::kLanes; ++k) w[index[i + k]] = p[k];
        }
      };
      apply_adam<PythonArithmetic>(
          adam_step, parameter_arrays<false>(p_.data(), dp_.data(), m_.data(), v_.data(), p_.size(),
                                             copy_to_forward));
    } else {
      apply_adam<FastArithmetic>(adam_step, parameter_arrays<true>(w_.data(), dp_.data(), m_.data(),
                                                                   v_.data(), w_.size()));
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
};

// microgpt.py on a tape: run_microgpt's program, printed lines, rng draws and
// RunResult fields. config.topo is ignored (the tape is its own order).
inline RunResult run_tape_microgpt(const Dataset& data, const RunConfig& config,
                                   const LineSink& print, TapeMode mode = TapeMode::fast) {
  return mode == TapeMode::fast ? run_training<TapeTrainer<TapeMode::fast>>(data, config, print)
                                : run_training<TapeTrainer<TapeMode::exact>>(data, config, print);
}

}  // namespace mga
