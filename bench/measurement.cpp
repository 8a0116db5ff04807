#include "bench/measurement.hpp"

#include <sys/resource.h>

namespace mga {

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // KiB on Linux
}

Measurement make_measurement(std::string_view allocator, const RunResult& run,
                             std::uint64_t output_hash) {
  Measurement m;
  m.allocator = allocator;
  m.steps = int(run.losses.size());
  m.train_seconds = run.train_seconds;
  m.phases = run.phases;
  m.train_nodes = run.train_nodes;
  m.alloc = run.train_alloc;
  m.peak_rss_kib = peak_rss_kib();
  m.output_hash = output_hash;
  m.final_loss = run.losses.empty() ? 0 : run.losses.back();
  return m;
}

Measurement make_measurement(std::string_view allocator, const ReplicaRuns& runs,
                             ReleaseMode release) {
  const Replica& first = runs.replicas.at(0);
  Measurement m = make_measurement(allocator, first.run, first.output_hash);
  m.train_seconds = runs.wall_seconds;
  m.threads = int(runs.replicas.size());
  m.release = release;
  m.phases = {};
  m.train_nodes = 0;
  m.alloc = {};
  for (const Replica& r : runs.replicas) {
    const double share = 1.0 / double(runs.replicas.size());
    m.phases.forward += share * r.run.phases.forward;
    m.phases.backward += share * r.run.phases.backward;
    m.phases.adam += share * r.run.phases.adam;
    m.phases.release += share * r.run.phases.release;
    m.train_nodes += r.run.train_nodes;
    m.alloc.allocations += r.run.train_alloc.allocations;
    m.alloc.frees += r.run.train_alloc.frees;
    m.alloc.bytes += r.run.train_alloc.bytes;
    m.replicas.push_back({r.seed.decimal(), r.run.train_seconds, r.output_hash,
                          r.run.losses.empty() ? 0 : r.run.losses.back()});
  }
  return m;
}

void flag_noise(Measurement& m) {
  const bool threads_wait = m.threads > 1 || m.release == ReleaseMode::background;
  m.noise.flags = noise_flags(m.noise.cpu_fraction, m.noise.steal_fraction, m.noise.load_average,
                              NoiseProbe::online_cores(), threads_wait);
}

}  // namespace mga
