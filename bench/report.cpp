#include "bench/report.hpp"

#include <algorithm>
#include <cstdio>

#include "allocators/roles.hpp"
#include "bench/process_malloc.hpp"
#include "core/engine.hpp"

namespace mga {

namespace {

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 3) {
    bytes /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return buffer;
}

}  // namespace

void print_summary(std::FILE* out, const PolicyRuns& runs) {
  const Measurement& m = runs.median_run();
  const Stats time = runs.train_seconds();
  const double total = m.phases.forward + m.phases.backward + m.phases.adam + m.phases.release;
  auto share = [&](double s) { return total > 0 ? 100 * s / total : 0.0; };
  std::fprintf(out, "\n--- summary ---\n");
  // A run named after an engine (there is no "graph" policy) is a tape's.
  const bool tape = parse_enum<Engine>(runs.allocator).has_value();
  std::fprintf(out, "%s %s (%s)\n", tape ? "engine       " : "allocator    ",
               runs.allocator.c_str(), runs.description.c_str());
  if (runs.repetitions.size() > 1) {
    std::fprintf(out,
                 "wall time     %.3f s median of %zu (min %.3f, max %.3f, cv %.1f%%), %d steps\n",
                 time.median, runs.repetitions.size(), time.min, time.max, 100 * time.cv, m.steps);
  } else {
    std::fprintf(out, "wall time     %.3f s for %d training steps\n", m.train_seconds, m.steps);
  }
  std::fprintf(out, "per step      %.3f ms, %.0f %s, %.2f ns/%s\n", m.ms_per_step(),
               m.nodes_per_step(), tape ? "tape ops" : "nodes", m.ns_per_node(),
               tape ? "op" : "node");
  if (tape) {
    std::fprintf(out, "allocations   not counted (flat buffers, made before training)\n");
  } else {
    std::fprintf(out, "allocations   %.1f calls/step, %s/step, %.1f frees/step\n",
                 double(m.alloc.allocations) / m.steps,
                 human_bytes(double(m.alloc.bytes) / m.steps).c_str(),
                 double(m.alloc.frees) / m.steps);
  }
  std::fprintf(out, "malloc        %s (%s)\n", m.malloc.c_str(), m.malloc_library.c_str());
  std::fprintf(out, "peak RSS      %s\n", human_bytes(double(m.peak_rss_kib) * 1024).c_str());
  std::fprintf(
      out,
      "phases        forward %.3f s (%.0f%%) | backward %.3f s (%.0f%%) | adam %.3f s (%.0f%%) | "
      "release %.3f s (%.0f%%)\n",
      m.phases.forward, share(m.phases.forward), m.phases.backward, share(m.phases.backward),
      m.phases.adam, share(m.phases.adam), m.phases.release, share(m.phases.release));
  std::fprintf(out, "noise         %s\n", noise_summary(runs).c_str());
}

std::string noise_summary(const PolicyRuns& runs) {
  std::vector<std::string> flags;
  for (const Measurement& m : runs.repetitions)
    for (const std::string& flag : m.noise.flags)
      if (std::find(flags.begin(), flags.end(), flag) == flags.end()) flags.push_back(flag);
  if (flags.empty()) return "none";
  std::string text;
  if (runs.repetitions.size() > 1) {
    text = std::to_string(runs.noisy_repetitions()) + " of " +
           std::to_string(runs.repetitions.size()) + " repetitions flagged: ";
  }
  for (std::size_t i = 0; i < flags.size(); ++i) text += (i ? "; " : "") + flags[i];
  return text;
}

std::string noisy_column(const PolicyRuns& runs) {
  return std::to_string(runs.noisy_repetitions()) + "/" + std::to_string(runs.repetitions.size());
}

bool any_noisy(const std::vector<PolicyRuns>& all) {
  return std::any_of(all.begin(), all.end(),
                     [](const PolicyRuns& runs) { return runs.noisy_repetitions() > 0; });
}

void print_noise_notes(std::FILE* out, const std::vector<PolicyRuns>& all) {
  if (!any_noisy(all)) return;
  // Each flag sentence once, with the cells and rounds it hit.
  std::vector<std::pair<std::string, std::string>> hits;
  for (const PolicyRuns& runs : all) {
    for (std::size_t round = 0; round < runs.repetitions.size(); ++round) {
      for (const std::string& flag : runs.repetitions[round].noise.flags) {
        auto found = std::find_if(hits.begin(), hits.end(),
                                  [&](const auto& hit) { return hit.first == flag; });
        if (found == hits.end()) found = hits.insert(hits.end(), {flag, ""});
        found->second += (found->second.empty() ? "" : ", ") + cell_name(runs) + " (round " +
                         std::to_string(round + 1) + ")";
      }
    }
  }
  std::fprintf(out,
               "\nnoisy k/N: k of the cell's N repetitions carry noise flags (kept in the "
               "medians; re-run on a quiet machine):\n");
  for (const auto& [flag, cells] : hits)
    std::fprintf(out, "  %s: %s\n", flag.c_str(), cells.c_str());
}

namespace {

// The cell every "vs" ratio divides by: the baseline policy, under glibc if
// the run has that cell (the unchanged program), else under the first malloc.
const PolicyRuns* baseline_cell(const std::vector<PolicyRuns>& all) {
  const PolicyRuns* found = nullptr;
  for (const auto& runs : all) {
    if (role_of(runs.allocator).role != Role::baseline) continue;
    if (found == nullptr || (runs.median_run().malloc == kDefaultMalloc &&
                             found->median_run().malloc != kDefaultMalloc))
      found = &runs;
  }
  return found;
}

}  // namespace

void print_table(std::FILE* out, const std::vector<PolicyRuns>& all) {
  const PolicyRuns* base = baseline_cell(all);
  const double baseline = base ? base->train_seconds().median : 0;
  const std::string ratio = base ? "vs_" + base->allocator : "vs_base";
  const bool malloc_column =
      std::any_of(all.begin(), all.end(), [](const PolicyRuns& r) { return r.malloc_axis; });
  int name_width = 14;  // the longest name
  for (const auto& runs : all) name_width = std::max(name_width, int(runs.allocator.size()));
  std::fprintf(out, "\n%-*s ", name_width, "allocator");
  if (malloc_column) std::fprintf(out, "%-16s ", "malloc");
  const bool noisy = any_noisy(all);
  std::fprintf(out, "%9s %9s %9s %6s %8s %8s %8s %8s %8s %8s %11s %11s %9s %7s%s\n", "median_s",
               "min_s", "max_s", "cv%", "ms/step", "ns/node", "fwd_s", "bwd_s", "adam_s", "rel_s",
               "allocs/step", "bytes/step", "rss_MiB", ratio.c_str(), noisy ? "   noisy" : "");
  for (const auto& runs : all) {
    const Stats time = runs.train_seconds();
    const Measurement& m = runs.median_run();
    char speedup[16] = "-";    // how many times faster than the baseline
    char noisy_text[32] = "";  // " k/N", only when some repetition is flagged
    if (noisy) std::snprintf(noisy_text, sizeof noisy_text, " %7s", noisy_column(runs).c_str());
    if (baseline > 0) std::snprintf(speedup, sizeof speedup, "%.2fx", baseline / time.median);
    std::fprintf(out, "%-*s ", name_width, runs.allocator.c_str());
    if (malloc_column) std::fprintf(out, "%-16s ", m.malloc.c_str());
    std::fprintf(out,
                 "%9.3f %9.3f %9.3f %6.1f %8.3f %8.2f %8.3f %8.3f %8.3f %8.3f %11.1f %11.0f %9.1f "
                 "%7s%s\n",
                 time.median, time.min, time.max, 100 * time.cv, m.ms_per_step(), m.ns_per_node(),
                 m.phases.forward, m.phases.backward, m.phases.adam, m.phases.release,
                 double(m.alloc.allocations) / m.steps, double(m.alloc.bytes) / m.steps,
                 double(m.peak_rss_kib) / 1024, speedup, noisy_text);
  }
  print_noise_notes(out, all);
}

}  // namespace mga
