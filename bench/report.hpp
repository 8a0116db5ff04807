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

#include "allocators/policy.hpp"
#include "core/train.hpp"

namespace mga {

// The name bench_train gives a run of --engine=tape where a policy's name goes:
// the tape has no allocator, so the summary speaks of an engine and tape ops.
inline constexpr std::string_view kTapeEngine = "tape";

// One training run of one policy.
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

  double ms_per_step() const { return 1e3 * train_seconds / steps; }
  double nodes_per_step() const { return double(train_nodes) / steps; }
  double ns_per_node() const { return 1e9 * train_seconds / double(train_nodes); }
};

Measurement make_measurement(std::string_view allocator, const RunResult& run,
                             std::uint64_t output_hash);
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
  Stats train_seconds() const;
  const Measurement& median_run() const;  // the repetition with the median training time
};

void print_summary(std::FILE* out, const PolicyRuns& runs);
void print_table(std::FILE* out, const std::vector<PolicyRuns>& all);

using Fields = std::vector<std::pair<std::string, std::string>>;  // values already JSON-encoded
std::string json_string(std::string_view text);
std::string to_json(const Fields& context, const Fields& config,
                    const std::vector<PolicyRuns>& all);

// Writes `content` to a temporary file beside `path`, then renames it over
// `path`: readers see the old file or the whole new one. Throws on failure.
void write_file_atomically(const std::string& path, const std::string& content);
// Throws std::runtime_error with a one-line reason if `path` cannot be written.
void check_writable(const std::string& path);

}  // namespace mga
