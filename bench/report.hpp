// Measurements of bench_train runs: the record a worker process hands back,
// repetition statistics, the console summary and table, and the JSON file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/output_file.hpp"  // write_file_atomically, for the JSON
#include "bench/replicas.hpp"
#include "core/engine.hpp"
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

// A worker process prints its measurement as one line; the parent parses it.
std::string to_record(const Measurement& m);
std::optional<Measurement> parse_record(std::string_view line);

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
};

void print_summary(std::FILE* out, const PolicyRuns& runs);
void print_table(std::FILE* out, const std::vector<PolicyRuns>& all);

using Fields = std::vector<std::pair<std::string, std::string>>;  // values already JSON-encoded
// A JSON string of `text`. Bytes that are not UTF-8 (a path may hold any)
// become the lone surrogates U+DC80..U+DCFF, as Python's surrogateescape:
// os.fsencode(json.load(f)[...]) gives the original bytes back.
std::string json_string(std::string_view text);
std::string to_json(const Fields& context, const Fields& config,
                    const std::vector<PolicyRuns>& all);
// A JSON object of `fields`, its lines indented by `indent` (as nested in to_json's config).
std::string json_object(const Fields& fields, const std::string& indent = "  ");

// ---- the thread axis ----------------------------------------------------------

// Throughput and how it compares, for all[index]: scaling efficiency is the
// 1-thread cell's median time over this cell's (same policy, malloc and
// release; its throughput over N times the 1-thread one's), the background
// gain the inline cell's median over this background cell's (same policy,
// malloc and threads). Negative when that cell is not in the run.
struct ThreadFigures {
  double steps_per_second = 0;  // all replicas' steps per second of wall time (median run)
  double scaling_efficiency = -1;
  double background_gain = -1;
};
ThreadFigures thread_figures(const std::vector<PolicyRuns>& all, std::size_t index);
// The table of a thread-axis run, with `notes` (one line each) under it.
void print_thread_table(std::FILE* out, const std::vector<PolicyRuns>& all,
                        const std::vector<std::string>& notes);

// `text` on one line, for a message: control characters (a newline in a path)
// become escapes such as \n and \x01.
std::string one_line(std::string_view text);

}  // namespace mga
