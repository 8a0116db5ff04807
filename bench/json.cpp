#include "bench/json.hpp"

#include <cmath>
#include <cstdio>

#include "allocators/roles.hpp"
#include "bench/noise.hpp"

namespace mga {

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

std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

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

namespace {

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
                                  {"train_seconds", json_number(r.train_seconds)},
                                  {"final_loss", json_number(r.final_loss)},
                                  {"output_fnv1a64", json_string(std::to_string(r.output_hash))}},
                                 "          ");
  }
  return list + "]";
}

Fields measurement_fields(const Measurement& m) {
  Fields fields = {
      {"train_seconds", json_number(m.train_seconds)},
      {"steps", std::to_string(m.steps)},
      {"ms_per_step", json_number(m.ms_per_step())},
      {"nodes_per_step", json_number(m.nodes_per_step())},
      {"ns_per_node", json_number(m.ns_per_node())},
      {"phases_seconds", object({{"forward", json_number(m.phases.forward)},
                                 {"backward", json_number(m.phases.backward)},
                                 {"adam", json_number(m.phases.adam)},
                                 {"release", json_number(m.phases.release)}},
                                "        ")},
      {"allocations_per_step", json_number(double(m.alloc.allocations) / m.steps)},
      {"frees_per_step", json_number(double(m.alloc.frees) / m.steps)},
      {"bytes_per_step", json_number(double(m.alloc.bytes) / m.steps)},
      {"peak_rss_kib", std::to_string(m.peak_rss_kib)},
      {"final_loss", json_number(m.final_loss)},
      {"output_fnv1a64", json_string(std::to_string(m.output_hash))},
      {"noise", noise_json(m.noise)},
  };
  if (!m.replicas.empty()) {  // the thread axis
    fields.push_back({"steps_per_second", json_number(m.threads * m.steps / m.train_seconds)});
    fields.push_back({"replicas", replica_list(m.replicas)});
  }
  return fields;
}

std::string figure(double value) {
  return value < 0 ? "null" : json_number(value);
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
        {"malloc_sha256",
         median.malloc_sha256.empty() ? "null" : json_string(median.malloc_sha256)},
        {"malloc_source", json_string(median.malloc_source)},
        {"traits", object(traits, "      ")},
        {"threads", std::to_string(all[i].threads)},
        {"release", json_string(to_string(all[i].release))},
    };
    if (all[i].thread_axis) {
      const ThreadFigures figures = thread_figures(all, i);
      fields.push_back({"oversubscribed", all[i].oversubscribed ? "true" : "false"});
      fields.push_back({"steps_per_second", json_number(figures.steps_per_second)});
      fields.push_back({"scaling_efficiency", figure(figures.scaling_efficiency)});
      fields.push_back({"background_gain", figure(figures.background_gain)});
    }
    fields.push_back(
        {"train_seconds", object({{"median", json_number(s.median)},
                                  {"min", json_number(s.min)},
                                  {"max", json_number(s.max)},
                                  {"mean", json_number(s.mean)},
                                  {"stddev", json_number(s.stddev)},
                                  {"cv", json_number(s.cv)},
                                  {"repetitions", std::to_string(all[i].repetitions.size())}},
                                 "      ")});
    fields.push_back({"noisy_repetitions", std::to_string(all[i].noisy_repetitions())});
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
