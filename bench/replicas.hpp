// bench_train's thread axis: --threads N trains N replicas of microgpt at once
// in one process, each on a thread of its own with its own model and its own
// policy instance, replica i with the seed --seed + i; --release picks who
// gives a step's nodes back (bench/background_release.hpp).
//
// Every replica's output is hashed as a single run's is, and bench_train
// compares each hash with that of a single-threaded run of the same seed, so
// a concurrency bug shows as an error, not as a timing.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/enum_names.hpp"
#include "core/seed.hpp"
#include "core/train.hpp"

namespace mga {

enum class ReleaseMode {
  inline_release,  // the trainer gives each step's nodes back itself (Graph::release)
  background,      // a second thread per replica does, while the trainer builds the next step
};

inline constexpr EnumName<ReleaseMode> kReleaseModeNames[] = {
    {ReleaseMode::inline_release, "inline", "the trainer frees each step's nodes at its end"},
    {ReleaseMode::background, "background",
     "a second thread per replica frees them while the trainer builds the next step"},
};
constexpr std::span<const EnumName<ReleaseMode>> enum_names(ReleaseMode) {
  return kReleaseModeNames;
}

// The FNV-1a 64 hash of what a run printed (each line and its newline): the
// output hash every measurement records.
class OutputHash {
 public:
  void add_line(std::string_view line) {
    for (unsigned char c : line) value_ = (value_ ^ c) * 1099511628211ULL;
    value_ = (value_ ^ '\n') * 1099511628211ULL;
  }
  std::uint64_t value() const { return value_; }

 private:
  std::uint64_t value_ = 14695981039346656037ULL;
};

// One replica's run: its training as run_training reports it, the hash of
// what it printed, and its seed.
struct Replica {
  Seed seed = 0;
  RunResult run;
  std::uint64_t output_hash = 0;
};

struct ReplicaRuns {
  std::vector<Replica> replicas;
  // From the first replica's training loop starting to the last one's ending.
  double wall_seconds = 0;
};

// The most replicas --threads takes.
inline constexpr int kMaxThreads = 1024;

// One replica's training with `config` (its seed set), printing to `print`.
using TrainReplica = std::function<RunResult(const RunConfig& config, const LineSink& print)>;

// The seeds of `threads` replicas: config.seed + i. Throws std::invalid_argument
// (one line) when one is past what Seed holds or --rng mulberry32 takes.
std::vector<Seed> replica_seeds(const RunConfig& config, int threads);

// Trains `threads` replicas at once, each on a new thread (one replica too, so
// that every thread count runs alike), replica i with replica_seeds()[i]. The
// threads start together; a replica that throws lets the others finish, then
// the first exception is rethrown.
ReplicaRuns run_replicas(const RunConfig& config, int threads, const TrainReplica& train);

// Processors online, for labelling runs with more threads than that.
int cores_online();

}  // namespace mga
