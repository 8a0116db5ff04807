// run_microgpt<Policy>: microgpt.py's main program (shuffle, init, training
// with Adam, sampling), timed by phase. It prints exactly what microgpt.py
// prints, through `print`, one line per call.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "core/adam.hpp"
#include "core/dataset.hpp"
#include "core/graph.hpp"
#include "core/model.hpp"
#include "core/print.hpp"
#include "core/python_pow.hpp"
#include "core/rng.hpp"

namespace mga {

struct RunConfig {
  ModelConfig model;
  int steps = 1000;
  Seed seed = 42;
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
  double train_seconds = 0;  // the whole training loop
  // When that loop began and ended: lines up replicas trained at once (bench/replicas.hpp).
  std::chrono::steady_clock::time_point train_start, train_end;
  std::uint64_t train_nodes = 0;  // nodes created by the training steps
  AllocStats train_alloc;         // allocator calls made during the training steps
};

using LineSink = std::function<void(const std::string&)>;

// A step's tokens, [BOS] + doc + [BOS], only as much as the block uses, into
// `tokens` (reused, so a step allocates nothing here). Returns the number of
// positions trained: min(block_size, len(tokens) - 1).
inline int step_tokens(std::span<const std::uint32_t> doc, int bos, int block_size,
                       std::vector<int>& tokens) {
  tokens.assign(1, bos);
  for (std::size_t i = 0; i < doc.size() && i < std::size_t(block_size); ++i)
    tokens.push_back(int(doc[i]));
  if (doc.size() < std::size_t(block_size)) tokens.push_back(bos);
  return std::min(block_size, int(tokens.size()) - 1);
}

// The trainable state of one run: the policy, the graph, the model and Adam's
// moments. train_step and sample are microgpt.py's loop bodies.
template <AllocationPolicy Policy>
class Trainer {
 public:
  using Ref = typename Policy::Ref;

  // Draws the parameters from rng, so call it where microgpt.py builds state_dict.
  Trainer(const Dataset& data, const RunConfig& config, Rng& rng)
      : data_(data),
        config_(config),
        graph_(policy_, config.topo),
        model_(config.model, data.vocab_size(), rng, policy_),
        m_(model_.params().size(), 0.0),
        v_(model_.params().size(), 0.0) {}

  // One training step on `doc` (step counts from 0); returns the loss and
  // adds the time of each phase to `phases`.
  double train_step(std::span<const std::uint32_t> doc, int step, PhaseSeconds& phases) {
    using Clock = std::chrono::steady_clock;
    auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
    const int n = step_tokens(doc, data_.bos(), config_.model.block_size, tokens_);

    const auto t0 = Clock::now();
    typename Gpt<Policy>::KvCache kv(config_.model.n_layer);
    std::vector<Ref> losses;
    Ref loss = forward_phase(n, kv, losses);
    const auto t1 = Clock::now();
    phases.forward += seconds(t1 - t0);

    const double loss_value = backward_phase(loss);
    const auto t2 = Clock::now();
    phases.backward += seconds(t2 - t1);

    adam_phase(step);
    const auto t3 = Clock::now();
    phases.adam += seconds(t3 - t2);

    release_phase(loss, losses, kv);
    phases.release += seconds(Clock::now() - t3);
    return loss_value;
  }

  // The phases of train_step, each a function that is never inlined, so that
  // callgrind can attribute instructions and cache misses to a phase (its
  // inclusive cost; scripts/cachesim.py). A call per phase and step costs
  // nothing measurable.
  [[gnu::noinline]] Ref forward_phase(int n, typename Gpt<Policy>::KvCache& kv,
                                      std::vector<Ref>& losses) {
    return model_.loss(graph_, tokens_, n, kv, losses);
  }
  [[gnu::noinline]] double backward_phase(const Ref& loss) {
    graph_.backward(loss);
    return graph_.node(loss).data;
  }
  [[gnu::noinline]] void adam_phase(int step) { adam_update(step); }
  [[gnu::noinline]] void release_phase(Ref& loss, std::vector<Ref>& losses,
                                       typename Gpt<Policy>::KvCache& kv) {
    loss = Ref{};  // the step's handles go away here, as CPython's do
    losses.clear();
    kv = typename Gpt<Policy>::KvCache(0);
    graph_.release();
  }

  // One name sampled at `temperature` (token ids, BOS excluded).
  std::vector<std::uint32_t> sample(Rng& rng, double temperature) {
    std::vector<std::uint32_t> tokens;
    {
      typename Gpt<Policy>::KvCache kv(config_.model.n_layer);
      int token_id = data_.bos();
      std::vector<double> weights;
      for (int pos = 0; pos < config_.model.block_size; ++pos) {
        auto logits = model_.forward(graph_, token_id, pos, kv);
        auto probs = Gpt<Policy>::sampling_probabilities(graph_, logits, temperature);
        weights.clear();
        for (const Ref& p : probs) weights.push_back(graph_.node(p).data);
        token_id = int(rng.choose(weights));
        if (token_id == data_.bos()) break;
        tokens.push_back(std::uint32_t(token_id));
      }
    }
    graph_.release();
    return tokens;
  }

  std::size_t num_params() { return model_.params().size(); }
  std::span<typename Policy::Node> params() { return model_.params(); }
  AllocStats alloc_stats() const { return policy_.stats(); }
  std::uint64_t nodes_created() const { return graph_.nodes_created(); }
  const Policy& policy() const { return policy_; }

 private:
  void adam_update(int step) {
    apply_adam<PythonArithmetic>(AdamStep(step, config_.steps),
                                 NodeParameters{model_.params(), m_.data(), v_.data()});
  }

  const Dataset& data_;
  RunConfig config_;
  Policy policy_;  // before graph_, which keeps a reference to it
  Graph<Policy> graph_;
  Gpt<Policy> model_;
  std::vector<double> m_, v_;
  std::vector<int> tokens_;
};

// microgpt.py's main program around any engine's trainer: shuffle the docs,
// draw the parameters (TrainerT's constructor), train, sample. TrainerT has
// train_step, sample, num_params, alloc_stats and nodes_created.
template <class TrainerT>
RunResult run_training(const Dataset& data, const RunConfig& config, const LineSink& print) {
  using Clock = std::chrono::steady_clock;
  RunResult result;
  auto rng = make_rng(config.rng, config.seed);
  std::vector<std::uint32_t> order(data.docs.size());
  std::iota(order.begin(), order.end(), 0U);
  rng->shuffle(order);  // random.shuffle(docs)
  result.num_docs = order.size();
  result.vocab_size = data.vocab_size();
  print("num docs: " + std::to_string(result.num_docs));
  print("vocab size: " + std::to_string(result.vocab_size));

  TrainerT trainer(data, config, *rng);
  result.num_params = trainer.num_params();
  print("num params: " + std::to_string(result.num_params));

  const AllocStats alloc_before = trainer.alloc_stats();
  const std::uint64_t nodes_before = trainer.nodes_created();
  // `losses` grows unreserved: its growth past 1 KB makes glibc consolidate
  // the nodes freed into its fastbins, which decides where the `new`
  // baseline's next nodes go; reserving it would change what `new` measures.
  const auto train_start = Clock::now();
  for (int step = 0; step < config.steps; ++step) {
    const auto doc = data.docs[order[std::size_t(step) % order.size()]];
    result.losses.push_back(trainer.train_step(doc, step, result.phases));
    print(format_step(step + 1, config.steps, result.losses.back(), config.rng));
  }
  result.train_start = train_start;
  result.train_end = Clock::now();
  result.train_seconds = std::chrono::duration<double>(result.train_end - train_start).count();
  result.train_nodes = trainer.nodes_created() - nodes_before;
  const AllocStats alloc_after = trainer.alloc_stats();
  result.train_alloc = {alloc_after.allocations - alloc_before.allocations,
                        alloc_after.frees - alloc_before.frees,
                        alloc_after.bytes - alloc_before.bytes};

  const double temperature = 0.5;
  print("");
  print("--- inference (new, hallucinated names) ---");
  for (int sample_idx = 0; sample_idx < config.samples; ++sample_idx) {
    result.samples.push_back(data.decode(trainer.sample(*rng, temperature)));
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "sample %2d: ", sample_idx + 1);
    print(prefix + result.samples.back());
  }
  return result;
}

// microgpt.py on the node graph, every node from Policy.
template <AllocationPolicy Policy>
RunResult run_microgpt(const Dataset& data, const RunConfig& config, const LineSink& print) {
  return run_training<Trainer<Policy>>(data, config, print);
}

}  // namespace mga
