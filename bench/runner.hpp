// Running the cells of a bench_train plan (bench/cells.hpp): a cell trained
// here, in this process, or each repetition of every cell in a worker process
// of its own (bench/worker.hpp), round-robin; and the checks of what they
// printed. The instantiations of every policy's training live here.
#pragma once

#include <string>

#include "bench/cells.hpp"
#include "bench/measurement.hpp"
#include "bench/options.hpp"
#include "bench/repeat.hpp"
#include "core/dataset.hpp"

namespace mga {

// Trains `cell` here with o's engine and run config, printing microgpt's
// output to stdout when `print_output`; then checks that this process runs
// on cell.malloc (if not "") and records the malloc it ran on.
Measurement run_cell(const Options& o, const Cell& cell, const Dataset& data, bool print_output);

// Runs o.repeat rounds (or with --repeat auto, as many as bench/repeat.hpp
// decides) over plan.cells, each cell's repetition in a fresh worker process,
// into plan.runs; prints progress to stderr (unless --quiet) and the table to
// stdout, and how --repeat auto ended under it. Throws (one line, no result
// written) when a worker fails or a replica printed other than its seed's
// single-threaded run.
Rounds run_round_robin(const Options& o, Plan& plan, const std::string& data_path,
                       const Dataset& data);

// Throws unless every run of `plan` printed the same output (a failed run
// writes no result); says so on stdout when there were several.
void check_outputs_agree(const Options& o, const Plan& plan);

}  // namespace mga
