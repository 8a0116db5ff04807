// microgpt on the Tape (core/tape.hpp): the same model, initialisation, Adam,
// data order and sampling as Gpt + run_microgpt (core/model.hpp,
// core/train.hpp), with one tape entry per fused op instead of one heap node
// per scalar. It is the "fastest mode" reference ceiling, not bit-exact with
// microgpt.py: forward sums in microgpt.py's order, but gradients are
// accumulated in another, so the parameters drift in the last bits.
#pragma once

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "core/dataset.hpp"
#include "core/model.hpp"
#include "core/rng.hpp"
#include "core/tape.hpp"
#include "core/train.hpp"

namespace mga {

// The parameters in one flat vector, laid out as Gpt's (ParamLayout).
class TapeGpt {
 public:
  // Draws every parameter from rng.gauss(0, 0.08) in ParamLayout's order, as Gpt does.
  TapeGpt(const ModelConfig& config, int vocab_size, Rng& rng)
      : config_(config), vocab_size_(vocab_size), layout_(config, vocab_size) {
    for (std::size_t i = 0; i < layout_.total; ++i) params_.push_back(rng.gauss(0, 0.08));
    grads_.assign(params_.size(), 0.0);  // neither vector grows again: the tape points at them
  }

  std::vector<double>& params() { return params_; }
  std::vector<double>& grads() { return grads_; }
  const ModelConfig& config() const { return config_; }
  int vocab_size() const { return vocab_size_; }

  // The KV cache: per layer, block_size rows of keys and of values on the tape.
  struct KvCache {
    std::vector<int> keys, values;  // tape offsets, one per layer
    int length = 0;                 // positions filled
  };
  KvCache new_cache(Tape& tape) const {
    KvCache kv;
    for (int li = 0; li < config_.n_layer; ++li) {
      kv.keys.push_back(tape.alloc(config_.block_size * config_.n_embd));
      kv.values.push_back(tape.alloc(config_.block_size * config_.n_embd));
    }
    return kv;
  }

  // gpt(token_id, pos_id, keys, values): the tape offset of the next token's logits.
  int forward(Tape& tape, int token_id, int pos_id, KvCache& kv) const {
    const int embd = config_.n_embd;
    int x = tape.embed(row(layout_.wte, token_id), row(layout_.wpe, pos_id), embd);
    x = tape.rmsnorm(x, embd);
    const int t = ++kv.length;
    for (int li = 0; li < config_.n_layer; ++li) {
      const auto& layer = layout_.layers[li];
      int residual = x;
      x = tape.rmsnorm(x, embd);
      const int q = linear(tape, x, layer.attn_wq);
      linear(tape, x, layer.attn_wk, kv.keys[li] + (t - 1) * embd);  // into the KV cache
      linear(tape, x, layer.attn_wv, kv.values[li] + (t - 1) * embd);
      x = tape.attention(q, kv.keys[li], kv.values[li], t, embd, config_.n_head);
      x = linear(tape, x, layer.attn_wo);
      x = tape.add(x, residual, embd);
      residual = x;
      x = tape.rmsnorm(x, embd);
      x = tape.relu(linear(tape, x, layer.mlp_fc1), 4 * embd);
      x = linear(tape, x, layer.mlp_fc2);
      x = tape.add(x, residual, embd);
    }
    return linear(tape, x, layout_.lm_head);
  }

 private:
  static int row(const Matrix& m, int index) { return int(m.first) + index * m.cols; }
  static int linear(Tape& tape, int x, const Matrix& w, int out = -1) {
    return tape.linear(x, int(w.first), w.rows, w.cols, out);
  }

  ModelConfig config_;
  int vocab_size_;
  ParamLayout layout_;
  std::vector<double> params_, grads_;
};

// Trainer's counterpart: the model, its tape and Adam's moments.
class TapeTrainer {
 public:
  // Draws the parameters from rng, so call it where microgpt.py builds state_dict.
  TapeTrainer(const Dataset& data, const RunConfig& config, Rng& rng)
      : data_(data),
        config_(config),
        model_(config.model, data.vocab_size(), rng),
        tape_(model_.params(), model_.grads()),
        m_(model_.params().size(), 0.0),
        v_(model_.params().size(), 0.0) {}

  // Forward and backward on `doc`: returns the loss and leaves d loss / d params
  // in grads() (added to what is there; adam_update zeroes them).
  double loss_and_grads(const std::vector<std::uint32_t>& doc, PhaseSeconds& phases) {
    using Clock = std::chrono::steady_clock;
    auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
    const int n = step_tokens(doc, data_.bos(), config_.model.block_size, tokens_);

    const auto t0 = Clock::now();
    tape_.reset();
    auto kv = model_.new_cache(tape_);
    const int losses = tape_.alloc(n);
    for (int pos = 0; pos < n; ++pos) {
      const int logits = model_.forward(tape_, tokens_[pos], pos, kv);
      tape_.cross_entropy(logits, model_.vocab_size(), tokens_[pos + 1], losses + pos);
    }
    const int loss = tape_.mean(losses, n);
    const auto t1 = Clock::now();
    phases.forward += seconds(t1 - t0);

    tape_.backward(loss);
    phases.backward += seconds(Clock::now() - t1);
    tape_entries_ += tape_.size();
    return *tape_.value(loss);
  }

  // One training step (step counts from 0): loss_and_grads, then Adam.
  double train_step(const std::vector<std::uint32_t>& doc, int step, PhaseSeconds& phases) {
    const double loss = loss_and_grads(doc, phases);
    const auto t0 = std::chrono::steady_clock::now();
    adam_update(step);
    phases.adam += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return loss;
  }

  // One name sampled at `temperature` (token ids, BOS excluded). Records on the
  // tape like training (cheap) but never runs backward.
  std::vector<std::uint32_t> sample(Rng& rng, double temperature) {
    std::vector<std::uint32_t> tokens;
    tape_.reset();
    auto kv = model_.new_cache(tape_);
    const int vocab = model_.vocab_size();
    const double inv_temperature = std::pow(temperature, -1.0);  // `logit / temperature`
    weights_.resize(vocab);
    int token_id = data_.bos();
    for (int pos = 0; pos < config_.model.block_size; ++pos) {
      const double* logits = tape_.value(model_.forward(tape_, token_id, pos, kv));
      for (int i = 0; i < vocab; ++i) weights_[i] = logits[i] * inv_temperature;
      Tape::softmax_in_place(weights_.data(), vocab);
      token_id = int(rng.choose(weights_));
      if (token_id == data_.bos()) break;
      tokens.push_back(std::uint32_t(token_id));
    }
    return tokens;
  }

  std::size_t num_params() { return model_.params().size(); }
  std::vector<double>& params() { return model_.params(); }
  std::vector<double>& grads() { return model_.grads(); }
  // Tape entries recorded by training, the tape's counterpart of graph nodes.
  std::uint64_t nodes_created() const { return tape_entries_; }
  // Not counted: the tape makes no per-op allocation, only its buffers grow on
  // the first long document. phases.release stays zero too: forgetting a
  // step's tape is two stores, timed as part of forward.
  AllocStats alloc_stats() const { return {}; }

 private:
  // microgpt.py's Adam with linear learning-rate decay; zeroes the gradients.
  void adam_update(int step) {
    const AdamConfig adam;
    const double lr_t = adam.learning_rate * (1 - double(step) / config_.steps);
    const double m_correction = 1 - std::pow(adam.beta1, step + 1);  // once per step
    const double v_correction = 1 - std::pow(adam.beta2, step + 1);
    // Reciprocals: two divisions per parameter fewer (Adam was 60% of the step),
    // at the cost of a last-bit difference from microgpt.py's `m / (1 - b1^t)`.
    const double inv_m_correction = 1 / m_correction, inv_v_correction = 1 / v_correction;
    double* p = model_.params().data();
    double* g = model_.grads().data();
    double* m = m_.data();
    double* v = v_.data();
    const std::size_t n = m_.size();
    for (std::size_t i = 0; i < n; ++i) {
      m[i] = adam.beta1 * m[i] + (1 - adam.beta1) * g[i];
      v[i] = adam.beta2 * v[i] + (1 - adam.beta2) * (g[i] * g[i]);
      const double m_hat = m[i] * inv_m_correction;
      const double v_hat = v[i] * inv_v_correction;
      p[i] -= lr_t * m_hat / (std::sqrt(v_hat) + adam.eps);
      g[i] = 0;
    }
  }

  const Dataset& data_;
  RunConfig config_;
  TapeGpt model_;
  Tape tape_;
  std::vector<double> m_, v_;
  std::vector<int> tokens_;
  std::vector<double> weights_;
  std::uint64_t tape_entries_ = 0;
};

// microgpt.py on the tape: run_microgpt's program, printed lines, rng draws
// and RunResult fields. config.topo is ignored (the tape is its own order).
inline RunResult run_tape_microgpt(const Dataset& data, const RunConfig& config,
                                   const LineSink& print) {
  return run_training<TapeTrainer>(data, config, print);
}

}  // namespace mga
