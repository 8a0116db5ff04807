// PolicyMemoryManager: fills Google Benchmark's memory report (allocs_per_iter,
// total_allocated_bytes, max_bytes_used) from the allocation policies' own
// AllocStats instead of a global operator new hook. Why the policies: mimalloc
// and jemalloc never go through operator new, arena and pool obtain memory in
// chunks, so only the policy knows what it asked of the allocator under it; and
// glibc malloc stays the process allocator, untouched.
//
// The benchmarks feed it through AllocMeter, which also sets the counters
// "allocator_calls/iter" and "allocator_bytes/iter" from the timed run: Google
// Benchmark 1.7.1 keeps the memory fields only in per-repetition entries, so
// with --benchmark_report_aggregates_only the counters are what reaches the JSON.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>

#include "core/policy.hpp"

namespace mga::bench {

// What the policies under test asked of their allocators since Start().
struct AllocTally {
  std::uint64_t allocations = 0;
  std::uint64_t bytes = 0;
  std::uint64_t max_iteration_bytes = 0;  // the most bytes obtained by a single iteration
};

inline AllocTally& alloc_tally() {
  static AllocTally tally;
  return tally;
}

// The library runs each benchmark once more between Start() and Stop(), for
// min(16, iterations) iterations, and divides num_allocs by that count.
class PolicyMemoryManager final : public benchmark::MemoryManager {
 public:
  void Start() override { alloc_tally() = {}; }

  void Stop(Result& result) override {
    const AllocTally& tally = alloc_tally();
    result.num_allocs = std::int64_t(tally.allocations);
    result.total_allocated_bytes = std::int64_t(tally.bytes);
    // Not a true peak (frees carry no byte counts): in chain and step_graph no
    // node is freed before the iteration's release, so it is the peak there;
    // for churn it is an upper bound.
    result.max_bytes_used = std::int64_t(tally.max_iteration_bytes);
    // net_heap_growth stays TombstoneValue (not reported): frees carry no sizes.
  }

  // 1.7.1 still declares the deprecated pointer form pure virtual.
  void Stop(Result* result) override { Stop(*result); }
};

// Measures the policy's allocator calls across a benchmark's loop: construct it
// before the loop, call end_iteration() after each iteration's release, and
// finish() after the loop.
template <AllocationPolicy Policy>
class AllocMeter {
 public:
  explicit AllocMeter(const Policy& policy)
      : policy_(policy), start_(policy.stats()), iteration_start_(start_) {}

  void end_iteration() {
    const AllocStats& now = policy_.stats();
    const std::uint64_t bytes = now.bytes - iteration_start_.bytes;
    AllocTally& tally = alloc_tally();
    tally.max_iteration_bytes = std::max(tally.max_iteration_bytes, bytes);
    iteration_start_ = now;
  }

  void finish(benchmark::State& state) {
    const AllocStats& end = policy_.stats();
    const std::uint64_t allocations = end.allocations - start_.allocations;
    const std::uint64_t bytes = end.bytes - start_.bytes;
    AllocTally& tally = alloc_tally();
    tally.allocations += allocations;
    tally.bytes += bytes;
    using benchmark::Counter;
    state.counters["allocator_calls/iter"] = Counter(double(allocations), Counter::kAvgIterations);
    state.counters["allocator_bytes/iter"] = Counter(double(bytes), Counter::kAvgIterations);
  }

 private:
  const Policy& policy_;
  AllocStats start_;
  AllocStats iteration_start_;
};

// Runs the registered benchmarks with PolicyMemoryManager attached, then shuts
// the library down; the end of both benchmark programs' main(). Exits 1 when
// nothing ran (a --benchmark_filter that matches nothing, or a bad regex): the
// library has said why in one line, and a run that measured nothing failed.
inline int run_benchmarks_with_memory_manager() {
  static PolicyMemoryManager memory_manager;
  benchmark::RegisterMemoryManager(&memory_manager);
  const std::size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::RegisterMemoryManager(nullptr);
  benchmark::Shutdown();
  return ran > 0 ? 0 : 1;
}

}  // namespace mga::bench
