#include "bench/report.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "allocators/roles.hpp"
#include "bench/process_malloc.hpp"

namespace mga {

// ---- one measurement -------------------------------------------------------

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // KiB on Linux
}

Measurement make_measurement(std::string_view allocator, const RunResult& run,
                             std::uint64_t output_hash) {
  Measurement m;
  m.allocator = allocator;
  m.steps = int(run.losses.size());
  m.train_seconds = run.train_seconds;
  m.phases = run.phases;
  m.train_nodes = run.train_nodes;
  m.alloc = run.train_alloc;
  m.peak_rss_kib = peak_rss_kib();
  m.output_hash = output_hash;
  m.final_loss = run.losses.empty() ? 0 : run.losses.back();
  return m;
}

Measurement make_measurement(std::string_view allocator, const ReplicaRuns& runs,
                             ReleaseMode release) {
  const Replica& first = runs.replicas.at(0);
  Measurement m = make_measurement(allocator, first.run, first.output_hash);
  m.train_seconds = runs.wall_seconds;
  m.threads = int(runs.replicas.size());
  m.release = release;
  m.phases = {};
  m.train_nodes = 0;
  m.alloc = {};
  for (const Replica& r : runs.replicas) {
    const double share = 1.0 / double(runs.replicas.size());
    m.phases.forward += share * r.run.phases.forward;
    m.phases.backward += share * r.run.phases.backward;
    m.phases.adam += share * r.run.phases.adam;
    m.phases.release += share * r.run.phases.release;
    m.train_nodes += r.run.train_nodes;
    m.alloc.allocations += r.run.train_alloc.allocations;
    m.alloc.frees += r.run.train_alloc.frees;
    m.alloc.bytes += r.run.train_alloc.bytes;
    m.replicas.push_back({r.seed.decimal(), r.run.train_seconds, r.output_hash,
                          r.run.losses.empty() ? 0 : r.run.losses.back()});
  }
  return m;
}

std::string to_record(const Measurement& m) {
  std::ostringstream out;
  out.precision(17);
  out << "mga-record " << m.allocator << ' ' << m.steps << ' ' << m.train_seconds << ' '
      << m.phases.forward << ' ' << m.phases.backward << ' ' << m.phases.adam << ' '
      << m.phases.release << ' ' << m.train_nodes << ' ' << m.alloc.allocations << ' '
      << m.alloc.frees << ' ' << m.alloc.bytes << ' ' << m.peak_rss_kib << ' ' << m.output_hash
      << ' ' << m.final_loss << ' ' << m.malloc << ' ' << m.malloc_library << ' ' << m.threads
      << ' ' << to_string(m.release) << ' ' << m.replicas.size();
  for (const auto& r : m.replicas)
    out << ' ' << r.seed << ' ' << r.train_seconds << ' ' << r.output_hash << ' ' << r.final_loss;
  return out.str();
}

std::optional<Measurement> parse_record(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::string tag;
  Measurement m;
  in >> tag >> m.allocator >> m.steps >> m.train_seconds >> m.phases.forward >> m.phases.backward >>
      m.phases.adam >> m.phases.release >> m.train_nodes >> m.alloc.allocations >> m.alloc.frees >>
      m.alloc.bytes >> m.peak_rss_kib >> m.output_hash >> m.final_loss >> m.malloc >>
      m.malloc_library;
  std::string release;
  std::size_t replicas = 0;
  in >> m.threads >> release >> replicas;
  const auto mode = parse_enum<ReleaseMode>(release);
  // No more replicas than threads: a garbled count never allocates much.
  if (!in || !mode || m.threads < 1 || m.threads > kMaxThreads ||
      (replicas != 0 && replicas != std::size_t(m.threads)))
    return std::nullopt;
  m.release = *mode;
  m.replicas.resize(replicas);
  for (auto& r : m.replicas) {
    in >> r.seed >> r.train_seconds >> r.output_hash >> r.final_loss;
    if (!std::isfinite(r.train_seconds) || !std::isfinite(r.final_loss)) return std::nullopt;
  }
  // Exactly the fields, nothing after them (a worker printing garbage is caught).
  if (!in || tag != "mga-record" || m.steps <= 0 || !(in >> std::ws).eof()) return std::nullopt;
  for (double value : {m.train_seconds, m.phases.forward, m.phases.backward, m.phases.adam,
                       m.phases.release, m.final_loss}) {
    if (!std::isfinite(value)) return std::nullopt;
  }
  return m;
}

// ---- statistics --------------------------------------------------------------

Stats compute_stats(std::vector<double> values) {
  Stats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.min = values.front();
  s.max = values.back();
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / double(n);
  if (n > 1) {
    double squares = 0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(squares / double(n - 1));  // sample standard deviation
  }
  s.cv = s.mean > 0 ? s.stddev / s.mean : 0;
  return s;
}

Stats PolicyRuns::train_seconds() const {
  std::vector<double> values;
  for (const auto& m : repetitions) values.push_back(m.train_seconds);
  return compute_stats(values);
}

const Measurement& PolicyRuns::median_run() const {
  std::vector<const Measurement*> sorted;
  for (const auto& m : repetitions) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(),
            [](auto* a, auto* b) { return a->train_seconds < b->train_seconds; });
  return *sorted[(sorted.size() - 1) / 2];
}

// ---- console -----------------------------------------------------------------

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
  std::fprintf(out, "%9s %9s %9s %6s %8s %8s %8s %8s %8s %8s %11s %11s %9s %7s\n", "median_s",
               "min_s", "max_s", "cv%", "ms/step", "ns/node", "fwd_s", "bwd_s", "adam_s", "rel_s",
               "allocs/step", "bytes/step", "rss_MiB", ratio.c_str());
  for (const auto& runs : all) {
    const Stats time = runs.train_seconds();
    const Measurement& m = runs.median_run();
    char speedup[16] = "-";  // how many times faster than the baseline
    if (baseline > 0) std::snprintf(speedup, sizeof speedup, "%.2fx", baseline / time.median);
    std::fprintf(out, "%-*s ", name_width, runs.allocator.c_str());
    if (malloc_column) std::fprintf(out, "%-16s ", m.malloc.c_str());
    std::fprintf(out,
                 "%9.3f %9.3f %9.3f %6.1f %8.3f %8.2f %8.3f %8.3f %8.3f %8.3f %11.1f %11.0f %9.1f "
                 "%7s\n",
                 time.median, time.min, time.max, 100 * time.cv, m.ms_per_step(), m.ns_per_node(),
                 m.phases.forward, m.phases.backward, m.phases.adam, m.phases.release,
                 double(m.alloc.allocations) / m.steps, double(m.alloc.bytes) / m.steps,
                 double(m.peak_rss_kib) / 1024, speedup);
  }
}

// ---- JSON --------------------------------------------------------------------

namespace {

// The length of the well-formed UTF-8 sequence at text[i] (strict, as
// Python's decoder), or 0 if there is none.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  const std::size_t length = (lead >> 5) == 0x6    ? 2
                             : (lead >> 4) == 0xe  ? 3
                             : (lead >> 3) == 0x1e ? 4
                                                   : 0;
  if (length == 0 || i + length > text.size()) return 0;
  std::uint32_t cp = lead & (0x7f >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return length;
}

}  // namespace

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = utf8_sequence_length(text, i);
    char buffer[8];
    if (length == 0) {  // not UTF-8: surrogateescape
      std::snprintf(buffer, sizeof buffer, "\\udc%02x", c);
      out += buffer;
      ++i;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out.append(text.substr(i, length));
        }
    }
    i += length;
  }
  return out + "\"";
}

std::string one_line(std::string_view text) {
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
      out += buffer;
    } else {
      out += ch;
    }
  }
  return out;
}

namespace {

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

std::string object(const Fields& fields, const std::string& indent) {
  std::string out = "{";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    out +=
        (i ? ",\n" : "\n") + indent + "  " + json_string(fields[i].first) + ": " + fields[i].second;
  }
  return out + "\n" + indent + "}";
}

std::string replica_list(const std::vector<ReplicaTime>& replicas) {
  std::string list = "[";
  for (std::size_t i = 0; i < replicas.size(); ++i) {
    const ReplicaTime& r = replicas[i];
    list +=
        (i ? ", " : "") + object({{"seed", r.seed},  // a JSON integer of any size
                                  {"train_seconds", number(r.train_seconds)},
                                  {"final_loss", number(r.final_loss)},
                                  {"output_fnv1a64", json_string(std::to_string(r.output_hash))}},
                                 "          ");
  }
  return list + "]";
}

Fields measurement_fields(const Measurement& m) {
  Fields fields = {
      {"train_seconds", number(m.train_seconds)},
      {"steps", std::to_string(m.steps)},
      {"ms_per_step", number(m.ms_per_step())},
      {"nodes_per_step", number(m.nodes_per_step())},
      {"ns_per_node", number(m.ns_per_node())},
      {"phases_seconds", object({{"forward", number(m.phases.forward)},
                                 {"backward", number(m.phases.backward)},
                                 {"adam", number(m.phases.adam)},
                                 {"release", number(m.phases.release)}},
                                "        ")},
      {"allocations_per_step", number(double(m.alloc.allocations) / m.steps)},
      {"frees_per_step", number(double(m.alloc.frees) / m.steps)},
      {"bytes_per_step", number(double(m.alloc.bytes) / m.steps)},
      {"peak_rss_kib", std::to_string(m.peak_rss_kib)},
      {"final_loss", number(m.final_loss)},
      {"output_fnv1a64", json_string(std::to_string(m.output_hash))},
  };
  if (!m.replicas.empty()) {  // the thread axis
    fields.push_back({"steps_per_second", number(m.threads * m.steps / m.train_seconds)});
    fields.push_back({"replicas", replica_list(m.replicas)});
  }
  return fields;
}

std::string figure(double value) {
  return value < 0 ? "null" : number(value);
}

}  // namespace

std::string json_object(const Fields& fields, const std::string& indent) {
  return object(fields, indent);
}

std::string to_json(const Fields& context, const Fields& config,
                    const std::vector<PolicyRuns>& all) {
  std::string runs = "[";
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Stats s = all[i].train_seconds();
    std::string repetitions = "[";
    for (std::size_t r = 0; r < all[i].repetitions.size(); ++r) {
      repetitions +=
          (r ? ", " : "") + object(measurement_fields(all[i].repetitions[r]), "        ");
    }
    repetitions += "]";
    Fields traits;
    for_each_reported_trait(all[i].allocator, all[i].traits, [&](const char* key, bool value) {
      traits.push_back({key, value ? "true" : "false"});
    });
    const Measurement& median = all[i].median_run();
    Fields fields = {
        {"allocator", json_string(all[i].allocator)},
        {"description", json_string(all[i].description)},
        {"malloc", json_string(median.malloc)},
        {"malloc_library", json_string(median.malloc_library)},
        {"traits", object(traits, "      ")},
        {"threads", std::to_string(all[i].threads)},
        {"release", json_string(to_string(all[i].release))},
    };
    if (all[i].thread_axis) {
      const ThreadFigures figures = thread_figures(all, i);
      fields.push_back({"oversubscribed", all[i].oversubscribed ? "true" : "false"});
      fields.push_back({"steps_per_second", number(figures.steps_per_second)});
      fields.push_back({"scaling_efficiency", figure(figures.scaling_efficiency)});
      fields.push_back({"background_gain", figure(figures.background_gain)});
    }
    fields.push_back(
        {"train_seconds", object({{"median", number(s.median)},
                                  {"min", number(s.min)},
                                  {"max", number(s.max)},
                                  {"mean", number(s.mean)},
                                  {"stddev", number(s.stddev)},
                                  {"cv", number(s.cv)},
                                  {"repetitions", std::to_string(all[i].repetitions.size())}},
                                 "      ")});
    fields.push_back({"repetitions", repetitions});
    runs += (i ? ", " : "") + object(fields, "    ");
  }
  runs += "]";
  return object({{"tool", json_string("bench_train")},
                 {"schema", "1"},
                 {"context", object(context, "  ")},
                 {"config", object(config, "  ")},
                 {"runs", runs}},
                "") +
         "\n";
}

}  // namespace mga
