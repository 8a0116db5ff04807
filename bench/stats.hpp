// The repetitions of one cell of a bench_train run and their statistics.
#pragma once

#include <string>
#include <vector>

#include "bench/measurement.hpp"

namespace mga {

struct Stats {
  double median = 0, min = 0, max = 0, mean = 0, stddev = 0, cv = 0;  // cv = stddev / mean
};
Stats compute_stats(std::vector<double> values);

// All repetitions of one policy (under one process allocator: a cell of the
// --malloc x --allocator matrix).
struct PolicyRuns {
  std::string allocator;
  std::string description;
  std::vector<Measurement> repetitions;
  PolicyTraits traits;       // all false for the tape engine, which is no policy
  bool malloc_axis = false;  // --malloc was given: the table shows the process allocator
  // The thread axis: replicas trained at once and who released; oversubscribed
  // when the run's threads (replicas, and their release threads) outnumber the cores.
  int threads = 1;
  ReleaseMode release = ReleaseMode::inline_release;
  bool thread_axis = false;
  bool oversubscribed = false;
  Stats train_seconds() const;
  const Measurement& median_run() const;  // the repetition with the median training time
  int noisy_repetitions() const;          // how many carry noise flags
};

// A cell's name in messages: the allocator, "under MALLOC" with --malloc,
// "xN RELEASE" on the thread axis.
std::string cell_name(const PolicyRuns& runs);

// Throughput and how it compares, for all[index] of a thread-axis run:
// scaling efficiency is the 1-thread cell's median time over this cell's (same
// policy, malloc and release; its throughput over N times the 1-thread one's),
// the background gain the inline cell's median over this background cell's
// (same policy, malloc and threads). Negative when that cell is not in the run.
struct ThreadFigures {
  double steps_per_second = 0;  // all replicas' steps per second of wall time (median run)
  double scaling_efficiency = -1;
  double background_gain = -1;
};
ThreadFigures thread_figures(const std::vector<PolicyRuns>& all, std::size_t index);

}  // namespace mga
