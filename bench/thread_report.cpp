// The thread axis's table (declared in bench/report.hpp).
#include <algorithm>

#include "bench/report.hpp"

namespace mga {

void print_thread_table(std::FILE* out, const std::vector<PolicyRuns>& all,
                        const std::vector<std::string>& notes) {
  const bool malloc_column =
      std::any_of(all.begin(), all.end(), [](const PolicyRuns& r) { return r.malloc_axis; });
  const bool any_oversubscribed =
      std::any_of(all.begin(), all.end(), [](const PolicyRuns& r) { return r.oversubscribed; });
  std::fprintf(out, "\n%-14s ", "allocator");
  if (malloc_column) std::fprintf(out, "%-16s ", "malloc");
  const bool noisy = any_noisy(all);
  std::fprintf(out, "%8s %-10s %9s %9s %9s %6s %10s %15s %8s %8s %11s %9s%s\n", "threads",
               "release", "median_s", "min_s", "max_s", "cv%", "steps/s", "replica_s", "scaling",
               "bg_gain", "allocs/step", "rss_MiB", noisy ? "   noisy" : "");
  for (std::size_t i = 0; i < all.size(); ++i) {
    const PolicyRuns& runs = all[i];
    const Stats time = runs.train_seconds();
    const Measurement& m = runs.median_run();
    const ThreadFigures figures = thread_figures(all, i);
    double fastest = 0, slowest = 0;  // the median run's replicas
    for (const auto& r : m.replicas) {
      fastest = fastest == 0 ? r.train_seconds : std::min(fastest, r.train_seconds);
      slowest = std::max(slowest, r.train_seconds);
    }
    char threads[16], replica[32], scaling[16] = "-", gain[16] = "-";
    std::snprintf(threads, sizeof threads, "%d%s", runs.threads, runs.oversubscribed ? "*" : "");
    std::snprintf(replica, sizeof replica, "%.3f-%.3f", fastest, slowest);
    if (figures.scaling_efficiency >= 0)
      std::snprintf(scaling, sizeof scaling, "%.0f%%", 100 * figures.scaling_efficiency);
    if (figures.background_gain >= 0)
      std::snprintf(gain, sizeof gain, "%.2fx", figures.background_gain);
    std::fprintf(out, "%-14s ", runs.allocator.c_str());
    if (malloc_column) std::fprintf(out, "%-16s ", m.malloc.c_str());
    char noisy_text[32] = "";
    if (noisy) std::snprintf(noisy_text, sizeof noisy_text, " %7s", noisy_column(runs).c_str());
    std::fprintf(out, "%8s %-10s %9.3f %9.3f %9.3f %6.1f %10.1f %15s %8s %8s %11.1f %9.1f%s\n",
                 threads, std::string(to_string(runs.release)).c_str(), time.median, time.min,
                 time.max, 100 * time.cv, figures.steps_per_second, replica, scaling, gain,
                 double(m.alloc.allocations) / (double(m.steps) * runs.threads),
                 double(m.peak_rss_kib) / 1024, noisy_text);
  }
  std::fprintf(out,
               "\nmedian_s: wall time from the first replica's training loop starting to the last "
               "one's ending;\nsteps/s: all replicas' steps per second of it; replica_s: each "
               "replica's own loop, fastest-slowest;\nscaling: throughput over the 1-thread "
               "run's times the threads; bg_gain: inline time over background time;\n"
               "allocs/step: allocator calls per replica and step; rss: the whole process.\n");
  if (any_oversubscribed) {
    std::fprintf(out,
                 "* oversubscribed: the run's threads (replicas, and a release thread per "
                 "replica with background) outnumber the %d cores online\n",
                 cores_online());
  }
  for (const auto& note : notes) std::fprintf(out, "%s\n", note.c_str());
  print_noise_notes(out, all);
}

}  // namespace mga
