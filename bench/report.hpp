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
#include "bench/output_file.hpp"  // write_file_atomically, for the JSON
#include "core/engine.hpp"
#include "core/train.hpp"

namespace mga {

// One training run of one policy. A tape engine has no allocator: its runs
// carry the engine's name (core/engine.hpp) instead.
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
// A JSON string of `text`. Bytes that are not UTF-8 (a path may hold any)
// become the lone surrogates U+DC80..U+DCFF, as Python's surrogateescape:
// os.fsencode(json.load(f)[...]) gives the original bytes back.
std::string json_string(std::string_view text);
std::string to_json(const Fields& context, const Fields& config,
                    const std::vector<PolicyRuns>& all);

// `text` on one line, for a message: control characters (a newline in a path)
// become escapes such as \n and \x01.
std::string one_line(std::string_view text);

}  // namespace mga
