// bench_step: one full microgpt training step per benchmark iteration, per
// allocation policy: forward through the loss, backward, Adam, release. Each
// iteration trains on the next document, in the order microgpt.py's
// random.shuffle(docs) with seed 42 puts them. The iteration
// count is fixed (kStepsPerRepetition) rather than found from
// --benchmark_min_time, so that every policy and every repetition trains on
// exactly the same documents: a step's cost depends on its document's length.
//
// items_per_second = graph nodes made per second (Graph::nodes_created());
// allocator_calls/iter, allocator_bytes/iter: bench/memory_manager.hpp.
//
// Documents: bench/bench_dataset.hpp ($MGA_DATA, else the dataset location rule,
// else a few built-in names).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/bench_dataset.hpp"
#include "bench/memory_manager.hpp"
#include "core/dataset.hpp"
#include "core/rng.hpp"
#include "core/train.hpp"

namespace {

using namespace mga;

constexpr std::uint64_t kSeed = 42;
constexpr int kScheduleSteps = 1000;      // microgpt.py's num_steps, for the learning-rate decay
constexpr int kStepsPerRepetition = 256;  // about 0.6 s (arena) to 1.5 s (shared_ptr) on this VM

bench::BenchDataset g_names;  // loaded in main before any benchmark runs

template <AllocationPolicy Policy>
void train_steps(benchmark::State& state) {
  const Dataset& data = g_names.data;
  // As microgpt.py: one generator shuffles the documents, then draws the weights.
  RunConfig config;
  config.steps = kScheduleSteps;
  auto rng = make_rng(config.rng, kSeed);
  std::vector<std::uint32_t> order(data.docs.size());
  std::iota(order.begin(), order.end(), 0U);
  rng->shuffle(order);
  Trainer<Policy> trainer(data, config, *rng);
  bench::AllocMeter meter(trainer.policy());
  PhaseSeconds phases;
  int step = 0;
  const std::uint64_t nodes_before = trainer.nodes_created();
  for (auto _ : state) {
    const auto& doc = data.docs[order[std::size_t(step) % order.size()]];
    benchmark::DoNotOptimize(trainer.train_step(doc, step % kScheduleSteps, phases));
    ++step;
    meter.end_iteration();
  }
  const auto nodes = double(trainer.nodes_created() - nodes_before);
  state.SetItemsProcessed(std::int64_t(nodes));
  state.counters["nodes/step"] = benchmark::Counter(nodes, benchmark::Counter::kAvgIterations);
  meter.finish(state);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  g_names = bench::load_bench_dataset();
  benchmark::AddCustomContext("mga_data", g_names.source);
  benchmark::AddCustomContext("mga_num_docs", std::to_string(g_names.data.docs.size()));
  benchmark::AddCustomContext("mga_step",
                              "forward + backward + Adam + release, one document per iteration");
  for_each_policy([]<class P>(std::type_identity<P>) {
    benchmark::RegisterBenchmark(("train_step/" + std::string(P::name)).c_str(), train_steps<P>)
        ->Iterations(kStepsPerRepetition)
        ->Unit(benchmark::kMillisecond);
  });

  return bench::run_benchmarks_with_memory_manager();
}
