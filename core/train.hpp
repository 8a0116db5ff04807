// run_microgpt<Policy>: microgpt.py's main program (shuffle, init, training
// with Adam, sampling), timed by phase. It prints exactly what microgpt.py
// prints, through `print`, one line per call.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "core/dataset.hpp"
#include "core/graph.hpp"
#include "core/model.hpp"
#include "core/rng.hpp"

namespace mga {

struct RunConfig {
  ModelConfig model;
  int steps = 1000;
  std::uint64_t seed = 42;
  RngKind rng = RngKind::python;
  int samples = 20;
  TopoOrder topo = TopoOrder::dfs;
};

// Seconds spent in each phase of the training steps (inference excluded).
struct PhaseSeconds {
  double forward = 0;   // building the graph up to the loss
  double backward = 0;  // topological sort and gradient propagation
  double adam = 0;      // the optimizer update of every parameter
  double release = 0;   // giving the step's nodes back (free, reset or refcount)
};

struct RunResult {
  std::size_t num_docs = 0;
  int vocab_size = 0;
  std::size_t num_params = 0;
  std::vector<double> losses;
  std::vector<std::string> samples;
  PhaseSeconds phases;
  double train_seconds = 0;       // the whole training loop
  std::uint64_t train_nodes = 0;  // nodes created by the training steps
  AllocStats train_alloc;         // allocator calls made during the training steps
};

using LineSink = std::function<void(const std::string&)>;

struct AdamConfig {
  double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99, eps = 1e-8;
};

inline std::string format_step(int step, int steps, double loss) {
  char line[96];
  std::snprintf(line, sizeof line, "step %4d / %4d | loss %.4f", step, steps, loss);
  return line;
}

template <class Policy>
RunResult run_microgpt(const Dataset& data, const RunConfig& config, const LineSink& print) {
  using Clock = std::chrono::steady_clock;
  using Ref = typename Policy::Ref;
  auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };

  RunResult result;
  auto rng = make_rng(config.rng, config.seed);
  std::vector<std::uint32_t> order(data.docs.size());
  std::iota(order.begin(), order.end(), 0U);
  rng->shuffle(order);  // random.shuffle(docs)
  result.num_docs = order.size();
  result.vocab_size = data.vocab_size();
  print("num docs: " + std::to_string(result.num_docs));
  print("vocab size: " + std::to_string(result.vocab_size));

  Policy policy;
  Graph<Policy> g(policy, config.topo);
  Gpt<Policy> model(config.model, data.vocab_size(), *rng);
  auto params = model.params();
  result.num_params = params.size();
  print("num params: " + std::to_string(params.size()));

  const AdamConfig adam;
  const int bos = data.bos();
  std::vector<double> m(params.size(), 0.0), v(params.size(), 0.0);
  std::vector<int> tokens;
  const AllocStats alloc_before = policy.stats();
  const std::uint64_t nodes_before = g.nodes_created();
  const auto train_start = Clock::now();
  for (int step = 0; step < config.steps; ++step) {
    const auto& doc = data.docs[order[std::size_t(step) % order.size()]];
    tokens.assign(1, bos);
    for (std::size_t i = 0; i < doc.size() && i < std::size_t(config.model.block_size); ++i) {
      tokens.push_back(int(doc[i]));
    }
    if (doc.size() < std::size_t(config.model.block_size)) tokens.push_back(bos);
    const int n = std::min(config.model.block_size, int(tokens.size()) - 1);

    const auto t0 = Clock::now();
    double loss_value;
    {
      typename Gpt<Policy>::KvCache kv(config.model.n_layer);
      std::vector<Ref> losses;
      for (int pos = 0; pos < n; ++pos) {
        auto logits = model.forward(g, tokens[pos], pos, kv);
        auto probs = Gpt<Policy>::softmax(g, logits);
        losses.push_back(g.neg(g.log(probs[tokens[pos + 1]])));
      }
      Ref loss = g.mul(g.sum(losses), 1.0 / n);
      const auto t1 = Clock::now();
      result.phases.forward += seconds(t1 - t0);

      g.backward(loss);
      loss_value = loss->data;
      const auto t2 = Clock::now();
      result.phases.backward += seconds(t2 - t1);

      const double lr_t = adam.learning_rate * (1 - double(step) / config.steps);
      // microgpt.py recomputes these per parameter; they are the same bits every time.
      const double m_correction = 1 - std::pow(adam.beta1, step + 1);
      const double v_correction = 1 - std::pow(adam.beta2, step + 1);
      for (std::size_t i = 0; i < params.size(); ++i) {
        auto& p = params[i];
        m[i] = adam.beta1 * m[i] + (1 - adam.beta1) * p.grad;
        v[i] = adam.beta2 * v[i] + (1 - adam.beta2) * std::pow(p.grad, 2);
        double m_hat = m[i] / m_correction;
        double v_hat = v[i] / v_correction;
        p.data -= lr_t * m_hat / (std::pow(v_hat, 0.5) + adam.eps);
        p.grad = 0;
      }
      const auto t3 = Clock::now();
      result.phases.adam += seconds(t3 - t2);

      loss = Ref{};  // the step's handles go away here, as CPython's do
      losses.clear();
      kv = typename Gpt<Policy>::KvCache(0);
      g.release();
      result.phases.release += seconds(Clock::now() - t3);
    }
    result.losses.push_back(loss_value);
    print(format_step(step + 1, config.steps, loss_value));
  }
  result.train_seconds = seconds(Clock::now() - train_start);
  result.train_nodes = g.nodes_created() - nodes_before;
  const AllocStats alloc_after = policy.stats();
  result.train_alloc = {alloc_after.allocations - alloc_before.allocations,
                        alloc_after.frees - alloc_before.frees,
                        alloc_after.bytes - alloc_before.bytes};

  const double temperature = 0.5;
  print("");
  print("--- inference (new, hallucinated names) ---");
  for (int sample_idx = 0; sample_idx < config.samples; ++sample_idx) {
    std::vector<std::uint32_t> sample;
    {
      typename Gpt<Policy>::KvCache kv(config.model.n_layer);
      int token_id = bos;
      std::vector<double> weights;
      for (int pos = 0; pos < config.model.block_size; ++pos) {
        auto logits = model.forward(g, token_id, pos, kv);
        for (Ref& l : logits) l = g.div(l, temperature);
        auto probs = Gpt<Policy>::softmax(g, logits);
        weights.clear();
        for (const Ref& p : probs) weights.push_back(p->data);
        token_id = int(rng->choose(weights));
        if (token_id == bos) break;
        sample.push_back(std::uint32_t(token_id));
      }
    }
    g.release();
    result.samples.push_back(data.decode(sample));
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "sample %2d: ", sample_idx + 1);
    print(prefix + result.samples.back());
  }
  return result;
}

}  // namespace mga
