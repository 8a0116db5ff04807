// The console report of a bench_train run: the summary of a single policy,
// the table of several, and the table of the thread axis (bench/thread_report.cpp).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "bench/stats.hpp"

namespace mga {

void print_summary(std::FILE* out, const PolicyRuns& runs);
// With a `noisy` column (k/N: k of N repetitions carry noise flags) and the
// flags under the table when a repetition has any.
void print_table(std::FILE* out, const std::vector<PolicyRuns>& all);

// The summary's noise line: "none", or the flags (and how many repetitions had them).
std::string noise_summary(const PolicyRuns& runs);
// The tables' noise: whether any repetition carries flags, a cell's "k/N",
// and under a table each flag sentence once with the cells and rounds it hit.
bool any_noisy(const std::vector<PolicyRuns>& all);
std::string noisy_column(const PolicyRuns& runs);
void print_noise_notes(std::FILE* out, const std::vector<PolicyRuns>& all);

// The table of a thread-axis run, with `notes` (one line each) under it.
void print_thread_table(std::FILE* out, const std::vector<PolicyRuns>& all,
                        const std::vector<std::string>& notes);

}  // namespace mga
