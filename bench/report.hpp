// The console report of a bench_train run: the summary of a single policy,
// the table of several, and the table of the thread axis (bench/thread_report.cpp).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "bench/stats.hpp"

namespace mga {

void print_summary(std::FILE* out, const PolicyRuns& runs);
void print_table(std::FILE* out, const std::vector<PolicyRuns>& all);

// The table of a thread-axis run, with `notes` (one line each) under it.
void print_thread_table(std::FILE* out, const std::vector<PolicyRuns>& all,
                        const std::vector<std::string>& notes);

}  // namespace mga
