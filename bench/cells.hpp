// The cells of a bench_train run: every combination of --malloc x
// --allocator (x --release x --threads), in the order the report's rows list
// them and the round-robin runs them. A tape engine is the one "allocator".
#pragma once

#include <string>
#include <vector>

#include "bench/json.hpp"
#include "bench/options.hpp"
#include "bench/stats.hpp"
#include "core/dataset.hpp"

namespace mga {

// What one worker process runs.
struct Cell {
  std::string allocator;  // a policy, or the tape engine's name
  std::string malloc;     // "": this process's own
  int threads = 1;
  ReleaseMode release = ReleaseMode::inline_release;
  bool operator==(const Cell&) const = default;
};

struct Plan {
  std::vector<Cell> cells;
  std::vector<PolicyRuns> runs;    // runs[i]: cells[i]'s row, its repetitions still to come
  std::vector<std::string> notes;  // policies background release leaves out, and why
  Fields left_out;                 // the same, for the JSON config
};

// A policy that cannot give nodes back on another thread has no background
// cells: refused when named (options.cpp), left out (with a note) under
// --allocator=all and --release=all.
Plan plan_cells(const Options& o);

// The rows' names: the policies of --allocator, or the tape engine's name.
std::vector<std::string> cell_allocators(const Options& o);
// The process allocators of --malloc (o.mallocs registered: their names,
// bench/malloc_list.hpp); {""} (this process's own) without it.
std::vector<std::string> cell_mallocs(const Options& o);

// Whether the run is one cell run once, here in this process (which prints
// microgpt's output): not a worker, and no --repeat (nor auto), lists or thread axis.
bool runs_in_this_process(const Options& o);

// The Options a worker process gets for `cell`: o's engine and run config,
// the cell's allocator, malloc (as malloc_argument writes it: NAME=PATH for a
// user allocator), threads and release, the dataset the parent
// read (its path and content hash) and the injected `fault` ("" for none);
// nothing about reporting. to_args of it is the worker's command line, and
// plan_cells of it (its --malloc registered) the one cell.
Options worker_options(const Options& o, const Cell& cell, const std::string& data_path,
                       const Dataset& data, const std::string& fault);

}  // namespace mga
