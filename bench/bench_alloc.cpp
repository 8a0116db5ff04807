// bench_alloc: Google Benchmark microbenchmarks of node allocation alone, one
// per allocation policy. Every benchmark's time includes both making the nodes
// and giving them back the policy's way; "release_ms" is the part of each
// iteration spent giving them back.
//
//   chain/<policy>       microgpt.ts's microbenchmark: acc = acc.add(b).mul(b), 1M times
//   step_graph/<policy>  the nodes and child links of one real training step, replayed
//   churn/<policy>       one node made and freed at a time (traits.frees_per_node only)
//
// Counters: allocs/s = nodes made per second (also items_per_second);
// allocator_calls/iter, allocator_bytes/iter = what the policy asked of the
// allocator under it (bench/memory_manager.hpp).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/bench_dataset.hpp"
#include "bench/memory_manager.hpp"
#include "core/graph.hpp"
#include "core/train.hpp"

namespace {

using namespace mga;
using Clock = std::chrono::steady_clock;

constexpr int kChainIterations = 1'000'000;
constexpr int kChurnBatch = 1024;  // nodes per benchmark iteration, to dwarf the loop overhead

// Seconds spent in release, turned into milliseconds per iteration.
void set_release_counter(benchmark::State& state, double release_seconds) {
  state.counters["release_ms"] =
      benchmark::Counter(release_seconds * 1e3, benchmark::Counter::kAvgIterations);
}

void set_node_counters(benchmark::State& state, std::uint64_t nodes) {
  state.SetItemsProcessed(std::int64_t(nodes));
  state.counters["allocs/s"] = benchmark::Counter(double(nodes), benchmark::Counter::kIsRate);
}

// ---- chain ----

// acc = Value(1); b = Value(0.5); for 1M: acc = acc.add(b).mul(b). All 2M+2
// nodes stay alive through their children until the release, which for
// shared_ptr is dropping `acc` (~SharedNode unrolls the 2M-deep chain).
template <AllocationPolicy Policy>
void chain(benchmark::State& state) {
  using Ref = typename Policy::Ref;
  Policy policy;
  Graph<Policy> g(policy);
  bench::AllocMeter meter(policy);
  double release_seconds = 0;
  for (auto _ : state) {
    Ref acc = g.constant(1.0);
    Ref b = g.constant(0.5);
    for (int i = 0; i < kChainIterations; ++i) acc = g.mul(g.add(acc, b), b);
    benchmark::DoNotOptimize(g.node(acc).data);
    const auto release_start = Clock::now();
    acc = Ref{};
    b = Ref{};
    policy.release();
    release_seconds += std::chrono::duration<double>(Clock::now() - release_start).count();
    meter.end_iteration();
  }
  set_node_counters(state, g.nodes_created());
  set_release_counter(state, release_seconds);
  meter.finish(state);
}

// ---- step_graph ----

// One training step's nodes in creation order. A child is either a node made
// earlier in the same step (index >= 0) or a model parameter (index < 0,
// parameter ~index), which lives outside every step's graph.
struct StepPattern {
  struct Entry {
    std::uint32_t n_children = 0;
    std::int32_t child[2] = {0, 0};
  };
  std::vector<Entry> nodes;
  std::size_t num_params = 0;
  std::size_t with_children[3] = {0, 0, 0};  // how many nodes have 0, 1, 2 children
};

// A policy that keeps every node of the first training step and, at the step's
// release, writes its shape into `recorded`. It is static because run_microgpt
// owns its policy object.
class RecordingPolicy {
 public:
  using Node = mga::Node;
  using Ref = Node*;
  static constexpr std::string_view name = "recording";
  static constexpr std::string_view description = "keeps the first step's nodes to copy its shape";
  static constexpr PolicyTraits traits{};
  static inline StepPattern recorded;

  Ref make() { return nodes_.emplace_back(std::make_unique<Node>()).get(); }

  void release() {
    if (!done_) record();
    done_ = true;
    nodes_.clear();
  }

  static Node& node(Ref ref) { return *ref; }
  static Ref borrow(Node& node) { return &node; }
  const AllocStats& stats() const { return stats_; }

 private:
  void record() {
    std::unordered_map<const Node*, std::int32_t> index_of, param_of;
    for (std::size_t i = 0; i < nodes_.size(); ++i) index_of[nodes_[i].get()] = std::int32_t(i);
    StepPattern& pattern = recorded;
    for (const auto& node : nodes_) {
      StepPattern::Entry entry;
      entry.n_children = node->n_children;
      for (std::uint32_t j = 0; j < node->n_children; ++j) {
        const Node* child = node->children[j];
        if (auto it = index_of.find(child); it != index_of.end()) {
          entry.child[j] = it->second;
        } else {
          auto [param, added] = param_of.try_emplace(child, std::int32_t(param_of.size()));
          entry.child[j] = ~param->second;
        }
      }
      ++pattern.with_children[node->n_children];
      pattern.nodes.push_back(entry);
    }
    pattern.num_params = param_of.size();
  }

  std::vector<std::unique_ptr<Node>> nodes_;
  bool done_ = false;
  AllocStats stats_;
};

// Runs microgpt's first training step (seed 42, the default model) through the
// real training code with RecordingPolicy; its graph is what step_graph replays.
const StepPattern& record_step_pattern(const Dataset& data) {
  RunConfig config;
  config.steps = 1;
  config.samples = 0;
  run_microgpt<RecordingPolicy>(data, config, [](const std::string&) {});
  return RecordingPolicy::recorded;
}

const StepPattern* g_step_pattern = nullptr;  // set in main before any benchmark runs

// Makes the recorded step's nodes with the same child links, then releases
// them. Values are not computed: only allocation and linking are measured.
// shared_ptr: the handles are dropped newest first, so each node dies as its
// own handle goes (its parents are already gone), a free per node as elsewhere.
template <AllocationPolicy Policy>
void step_graph(benchmark::State& state) {
  using Node = typename Policy::Node;
  using Ref = typename Policy::Ref;
  const StepPattern& pattern = *g_step_pattern;
  Policy policy;
  Parameters<Policy> params(policy, pattern.num_params);
  std::vector<Ref> made;
  made.reserve(pattern.nodes.size());
  bench::AllocMeter meter(policy);
  double release_seconds = 0;
  for (auto _ : state) {
    for (const StepPattern::Entry& entry : pattern.nodes) {
      Ref ref = policy.make();
      Node& node = policy.node(ref);
      node.data = 1.0;
      node.n_children = entry.n_children;
      for (std::uint32_t j = 0; j < entry.n_children; ++j) {
        const std::int32_t c = entry.child[j];
        node.children[j] = c >= 0 ? made[std::size_t(c)] : params.ref(std::size_t(~c));
        node.local_grads[j] = 1.0;
      }
      made.push_back(std::move(ref));
    }
    benchmark::DoNotOptimize(policy.node(made.back()).data);
    const auto release_start = Clock::now();
    while (!made.empty()) made.pop_back();
    policy.release();
    release_seconds += std::chrono::duration<double>(Clock::now() - release_start).count();
    meter.end_iteration();
  }
  set_node_counters(state, state.iterations() * pattern.nodes.size());
  set_release_counter(state, release_seconds);
  meter.finish(state);
}

// ---- churn ----

// Each node is made and released at once. Only policies that free node by
// node (traits.frees_per_node) take part: the others can only free everything
// since the last release in bulk, so one node per release would measure a
// pointer reset or a whole heap created and destroyed per node, not a free.
template <AllocationPolicy Policy>
void churn(benchmark::State& state) {
  using Node = typename Policy::Node;
  using Ref = typename Policy::Ref;
  Policy policy;
  Graph<Policy> g(policy);
  // The operands live outside the policy so that release() frees only the new node.
  Node a_storage, b_storage;
  a_storage.data = 1.5;
  b_storage.data = 0.5;
  const Ref a = Policy::borrow(a_storage), b = Policy::borrow(b_storage);
  bench::AllocMeter meter(policy);
  for (auto _ : state) {
    for (int i = 0; i < kChurnBatch; ++i) {
      Ref node = g.mul(a, b);
      benchmark::DoNotOptimize(g.node(node).data);
      node = Ref{};
      policy.release();
    }
    meter.end_iteration();
  }
  set_node_counters(state, g.nodes_created());
  meter.finish(state);
}

void register_benchmarks() {
  for_each_policy([]<class P>(std::type_identity<P>) {
    const std::string name(P::name);
    benchmark::RegisterBenchmark(("chain/" + name).c_str(), chain<P>)
        ->Unit(benchmark::kMillisecond);
  });
  for_each_policy([]<class P>(std::type_identity<P>) {
    const std::string name(P::name);
    benchmark::RegisterBenchmark(("step_graph/" + name).c_str(), step_graph<P>)
        ->Unit(benchmark::kMicrosecond);
  });
  for_each_policy([]<class P>(std::type_identity<P>) {
    if constexpr (P::traits.frees_per_node) {
      const std::string name(P::name);
      benchmark::RegisterBenchmark(("churn/" + name).c_str(), churn<P>)
          ->Unit(benchmark::kMicrosecond);
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const bench::BenchDataset names = bench::load_bench_dataset();
  const Dataset& data = names.data;
  const StepPattern& pattern = record_step_pattern(data);
  g_step_pattern = &pattern;
  benchmark::AddCustomContext("mga_data", names.source);
  benchmark::AddCustomContext("mga_node_bytes", std::to_string(sizeof(Node)));
  benchmark::AddCustomContext("mga_step_graph",
                              std::to_string(pattern.nodes.size()) + " nodes (" +
                                  std::to_string(pattern.with_children[0]) + " leaves, " +
                                  std::to_string(pattern.with_children[1]) + " unary, " +
                                  std::to_string(pattern.with_children[2]) + " binary), " +
                                  std::to_string(pattern.num_params) + " parameters linked");
  benchmark::AddCustomContext("mga_timing",
                              "time includes allocation and release; release_ms is the release");

  register_benchmarks();
  return bench::run_benchmarks_with_memory_manager();
}
