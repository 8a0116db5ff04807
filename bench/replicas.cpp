#include "bench/replicas.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace mga {

std::vector<Seed> replica_seeds(const RunConfig& config, int threads) {
  std::vector<Seed> seeds;
  for (int i = 0; i < threads; ++i) {
    const std::optional<Seed> seed = config.seed.plus(std::uint32_t(i));
    if (!seed) {
      throw std::invalid_argument("--seed plus " + std::to_string(i) + " (replica " +
                                  std::to_string(i + 1) + "'s seed) has more than " +
                                  std::to_string(Seed::kMaxDigits) + " digits");
    }
    if (config.rng == RngKind::mulberry32 && !seed->javascript_int32()) {
      throw std::invalid_argument(
          "--rng mulberry32 takes a seed below 2^53 in magnitude, and replica " +
          std::to_string(i + 1) + "'s seed (--seed plus " + std::to_string(i) + ") is not");
    }
    seeds.push_back(*seed);
  }
  return seeds;
}

ReplicaRuns run_replicas(const RunConfig& config, int threads, const TrainReplica& train) {
  const std::vector<Seed> seeds = replica_seeds(config, threads);
  ReplicaRuns result;
  result.replicas.resize(std::size_t(threads));
  std::exception_ptr failure;
  std::mutex failure_mutex;
  std::latch start(threads);
  // No replica's thread ends before every replica has: a thread's end hands
  // its allocator's memory over (mimalloc abandons its segments), which would
  // land in the middle of the others' training.
  std::latch done(threads);
  std::atomic<bool> abandoned = false;  // a thread could not be started
  auto replica = [&](int i) {
    Replica& mine = result.replicas[std::size_t(i)];
    mine.seed = seeds[std::size_t(i)];
    RunConfig own = config;
    own.seed = mine.seed;
    OutputHash hash;
    start.arrive_and_wait();  // no replica has a head start
    if (abandoned) return;
    try {
      mine.run = train(own, [&](const std::string& line) { hash.add_line(line); });
      mine.output_hash = hash.value();
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
    done.arrive_and_wait();
  };
  std::vector<std::thread> running;
  try {
    for (int i = 0; i < threads; ++i) running.emplace_back(replica, i);
  } catch (const std::system_error& e) {
    abandoned = true;
    start.count_down(threads - std::ptrdiff_t(running.size()));
    done.count_down(threads);  // the started ones return before reaching it
    for (auto& thread : running) thread.join();
    throw std::runtime_error("cannot start replica " + std::to_string(running.size() + 1) +
                             "'s thread: " + e.what());
  }
  for (auto& thread : running) thread.join();
  if (failure) std::rethrow_exception(failure);

  auto first_start = result.replicas[0].run.train_start;
  auto last_end = result.replicas[0].run.train_end;
  for (const auto& r : result.replicas) {
    first_start = std::min(first_start, r.run.train_start);
    last_end = std::max(last_end, r.run.train_end);
  }
  result.wall_seconds = std::chrono::duration<double>(last_end - first_start).count();
  return result;
}

int cores_online() {
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores > 0 ? int(cores) : 1;
}

}  // namespace mga
