// Worker processes: bench_train runs each measured repetition in a fresh
// process of its own executable, so no run inherits another's heap. This file
// owns a worker's whole life: starting it, collecting what it printed, a time
// limit, and making sure it never outlives bench_train. bench_train decides
// the arguments and parses the record.
//
// Guarantees (tests/reliability/worker_test.cpp):
//  - A worker dies with bench_train. Termination signals (HUP, INT, QUIT, TERM,
//    ALRM, USR1, USR2) are forwarded to the running worker and waited for,
//    then bench_train dies of the same signal (so its exit status is the
//    conventional one and it writes nothing more). If bench_train is killed
//    outright (SIGKILL), the kernel kills the worker (PR_SET_PDEATHSIG, set
//    before exec and checked against the parent having died before that).
//  - A worker that exits non-zero, is killed, prints more than
//    WorkerLimits::max_output_bytes or outlives the time limit is reported in
//    one line (WorkerError); a worker past its time limit is killed first.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "bench/measurement.hpp"

namespace mga {

// Makes sure file descriptors 0, 1 and 2 are open: a closed one is opened on
// /dev/null, so no pipe or file opened later can take a standard stream's
// number (a worker's pipe on fd 1 would be its own stdout). Call first in main.
void open_standard_streams();

class WorkerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct WorkerLimits {
  double timeout_seconds = 0;              // 0: no limit
  std::size_t max_output_bytes = 1 << 20;  // a record is one short line
};

// Runs /proc/self/exe with `args` (args[0] is the program name) and the
// environment of this process plus `extra_env` ("NAME=value" entries, which
// override). Returns everything the worker wrote to stdout; what it wrote to
// stderr is passed on to this process's stderr when it succeeds, and its last
// line quoted in the error when it fails. Throws WorkerError naming `label`.
std::string run_worker_process(const std::string& label, const std::vector<std::string>& args,
                               const std::vector<std::string>& extra_env = {},
                               const WorkerLimits& limits = {});

// ---- fault injection, for the tests of the above -----------------------------
//
// MGA_WORKER_FAULT=KIND@RUN makes the RUN-th worker bench_train starts (1 is
// the first) misbehave instead of printing its record; bench_train passes the
// KIND to that worker alone (hidden option --inject-fault). Kinds:
//   crash   dies of SIGABRT             exit     exits 1 with a message on stderr
//   hang    never finishes              mute     closes stdout and stderr, never finishes
//   garbage prints a line, no record    flood    prints more than 1 MiB
//   differ  reports a different output hash (and its last replica's, --threads)
//   sleep   sleeps about half of its training loop, and prints a normal record
//           (bench/noise.hpp: its noise carries the cpu_fraction flag)
inline constexpr const char* kWorkerFaultVariable = "MGA_WORKER_FAULT";

// The fault for the run-th worker, "" if none. Throws WorkerError if the
// variable is set but malformed.
std::string worker_fault_for_run(int run);

// In a worker: prints m's record, or carries out `fault`.
void emit_worker_record(Measurement m, const std::string& fault);

}  // namespace mga
