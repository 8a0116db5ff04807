// Worker processes: bench_train runs each measured repetition in a fresh
// process of its own executable, so no run inherits another's heap. This file
// owns starting a worker and collecting what it printed; bench_train decides
// the arguments and parses the record.
#pragma once

#include <string>
#include <vector>

namespace mga {

// Runs /proc/self/exe with `args` (args[0] is the program name) and the
// environment of this process plus `extra_env` ("NAME=value" entries, which
// override). Returns everything the worker wrote to stdout. Throws
// std::runtime_error naming `label` if it cannot start or does not exit 0.
std::string run_worker_process(const std::string& label, const std::vector<std::string>& args,
                               const std::vector<std::string>& extra_env = {});

}  // namespace mga
