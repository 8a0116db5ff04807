// What one bench_train training run measured: the Measurement a worker
// process hands back (bench/record.hpp) and the reports show (bench/report.hpp,
// bench/json.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/noise.hpp"
#include "bench/replicas.hpp"
#include "core/policy.hpp"
#include "core/train.hpp"

namespace mga {

// What one replica of a thread-axis run reports (bench/replicas.hpp).
struct ReplicaTime {
  std::string seed;  // decimal, as Seed::decimal()
  double train_seconds = 0;
  std::uint64_t output_hash = 0;
  double final_loss = 0;
};

// One training run of one policy. A tape engine has no allocator: its runs
// carry the engine's name (core/engine.hpp) instead. A run of the thread axis
// (--threads, --release) trained `threads` replicas at once: train_seconds is
// then the wall time from the first replica's training loop starting to the
// last one's ending, phases are the replicas' mean, nodes and allocator calls
// their sum, and the output hash and loss replica 1's (the --seed run).
// A new field reaches the parent only if bench/record.cpp's table lists it.
// Noise: the training loop's, from the first replica's loop starting to the
// last one's ending on the thread axis.
struct Measurement {
  std::string allocator;
  int steps = 0;
  double train_seconds = 0;
  PhaseSeconds phases;
  std::uint64_t train_nodes = 0;
  AllocStats alloc;               // during the training steps
  long peak_rss_kib = 0;          // of the whole process
  std::uint64_t output_hash = 0;  // FNV-1a of everything microgpt printed
  double final_loss = 0;
  std::string malloc = "?";          // the process allocator the run had (bench/process_malloc.hpp)
  std::string malloc_library = "?";  // the file malloc resolved into
  std::string malloc_source = "builtin";  // "user": --malloc NAME=PATH, a PATH or --malloc-file
  std::string malloc_sha256;              // of malloc_library; "" for glibc
  Noise noise;                            // over the training loop (bench/noise.hpp)
  int threads = 1;
  ReleaseMode release = ReleaseMode::inline_release;
  std::vector<ReplicaTime> replicas;  // thread-axis runs only, replica i with --seed + i

  double ms_per_step() const { return 1e3 * train_seconds / steps; }
  double nodes_per_step() const { return double(train_nodes) / steps; }
  double ns_per_node() const { return 1e9 * train_seconds / double(train_nodes); }
};

Measurement make_measurement(std::string_view allocator, const RunResult& run,
                             std::uint64_t output_hash);
Measurement make_measurement(std::string_view allocator, const ReplicaRuns& runs,
                             ReleaseMode release);
long peak_rss_kib();

// The noise flags made again for this machine and for the run's threads: a
// run with replicas or a background releaser can wait on its own locks.
void flag_noise(Measurement& m);

}  // namespace mga
