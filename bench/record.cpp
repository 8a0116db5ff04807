#include "bench/record.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <type_traits>
#include <variant>

namespace mga {

namespace {

constexpr std::string_view kTag = "mga-record";

// Where a field lives in the struct being written or read.
using FieldRef =
    std::variant<std::string*, int*, long*, std::uint64_t*, double*, ReleaseMode*, Noise*>;

template <class Struct>
struct Field {
  std::string_view key;
  FieldRef (*at)(Struct&);
};

constexpr Field<Measurement> kMeasurementFields[] = {
    {"allocator", [](Measurement& m) -> FieldRef { return &m.allocator; }},
    {"steps", [](Measurement& m) -> FieldRef { return &m.steps; }},
    {"train_seconds", [](Measurement& m) -> FieldRef { return &m.train_seconds; }},
    {"forward_seconds", [](Measurement& m) -> FieldRef { return &m.phases.forward; }},
    {"backward_seconds", [](Measurement& m) -> FieldRef { return &m.phases.backward; }},
    {"adam_seconds", [](Measurement& m) -> FieldRef { return &m.phases.adam; }},
    {"release_seconds", [](Measurement& m) -> FieldRef { return &m.phases.release; }},
    {"train_nodes", [](Measurement& m) -> FieldRef { return &m.train_nodes; }},
    {"allocations", [](Measurement& m) -> FieldRef { return &m.alloc.allocations; }},
    {"frees", [](Measurement& m) -> FieldRef { return &m.alloc.frees; }},
    {"bytes", [](Measurement& m) -> FieldRef { return &m.alloc.bytes; }},
    {"peak_rss_kib", [](Measurement& m) -> FieldRef { return &m.peak_rss_kib; }},
    {"output_hash", [](Measurement& m) -> FieldRef { return &m.output_hash; }},
    {"final_loss", [](Measurement& m) -> FieldRef { return &m.final_loss; }},
    {"malloc", [](Measurement& m) -> FieldRef { return &m.malloc; }},
    {"malloc_library", [](Measurement& m) -> FieldRef { return &m.malloc_library; }},
    {"malloc_source", [](Measurement& m) -> FieldRef { return &m.malloc_source; }},
    {"malloc_sha256", [](Measurement& m) -> FieldRef { return &m.malloc_sha256; }},
    {"noise", [](Measurement& m) -> FieldRef { return &m.noise; }},
    {"threads", [](Measurement& m) -> FieldRef { return &m.threads; }},
    {"release", [](Measurement& m) -> FieldRef { return &m.release; }},
};

constexpr Field<ReplicaTime> kReplicaFields[] = {
    {"seed", [](ReplicaTime& r) -> FieldRef { return &r.seed; }},
    {"train_seconds", [](ReplicaTime& r) -> FieldRef { return &r.train_seconds; }},
    {"output_hash", [](ReplicaTime& r) -> FieldRef { return &r.output_hash; }},
    {"final_loss", [](ReplicaTime& r) -> FieldRef { return &r.final_loss; }},
};

// The key of the replica count, and the prefix of replica i's keys (1-based).
constexpr std::string_view kReplicaCount = "replicas";
std::string replica_prefix(std::size_t i) {
  return "replica" + std::to_string(i + 1) + ".";
}

bool escaped(unsigned char c) {
  return c <= ' ' || c >= 0x7f || c == '%';
}

std::string encode(const std::string& text) {
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (!escaped(c)) {
      out += ch;
      continue;
    }
    char buffer[4];
    std::snprintf(buffer, sizeof buffer, "%%%02X", c);
    out += buffer;
  }
  return out;
}

std::optional<std::string> decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    unsigned value = 0;
    const char* first = text.data() + i + 1;
    if (i + 3 > text.size() || std::from_chars(first, first + 2, value, 16).ptr != first + 2)
      return std::nullopt;
    out += char(value);
    i += 2;
  }
  return out;
}

std::string write_value(const FieldRef& field) {
  return std::visit(
      [](auto* value) -> std::string {
        using T = std::remove_pointer_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return encode(*value);
        } else if constexpr (std::is_same_v<T, ReleaseMode>) {
          return std::string(to_string(*value));
        } else if constexpr (std::is_same_v<T, Noise>) {
          return encode(noise_words(*value));
        } else {
          char buffer[64];
          const auto end = std::to_chars(buffer, buffer + sizeof buffer, *value).ptr;
          return std::string(buffer, end);
        }
      },
      field);
}

// Reads `text` into the field; false if it is not a whole value of its type.
bool read_value(std::string_view text, const FieldRef& field) {
  return std::visit(
      [text](auto* value) -> bool {
        using T = std::remove_pointer_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::string>) {
          const auto decoded = decode(text);
          if (decoded) *value = *decoded;
          return decoded.has_value();
        } else if constexpr (std::is_same_v<T, ReleaseMode>) {
          const auto mode = parse_enum<ReleaseMode>(text);
          if (mode) *value = *mode;
          return mode.has_value();
        } else if constexpr (std::is_same_v<T,
                                            Noise>) {  // the flags are made here, for this machine
          const auto words = decode(text);
          const auto noise =
              words ? parse_noise_words(*words, NoiseProbe::online_cores()) : std::nullopt;
          if (noise) *value = *noise;
          return noise.has_value();
        } else {
          const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
          if constexpr (std::is_same_v<T, double>) {
            if (!std::isfinite(*value)) return false;
          }
          return error == std::errc() && end == text.data() + text.size();
        }
      },
      field);
}

template <class Struct, std::size_t N>
void write_fields(std::string& line, const std::string& prefix, Struct item,
                  const Field<Struct> (&table)[N]) {
  for (const auto& field : table)
    line += ' ' + prefix + std::string(field.key) + '=' + write_value(field.at(item));
}

// Reads every field of `table` (under `prefix`) from `values`, removing them.
template <class Struct, std::size_t N>
bool read_fields(std::map<std::string, std::string, std::less<>>& values, const std::string& prefix,
                 Struct& item, const Field<Struct> (&table)[N]) {
  for (const auto& field : table) {
    const auto found = values.find(prefix + std::string(field.key));
    if (found == values.end() || !read_value(found->second, field.at(item))) return false;
    values.erase(found);
  }
  return true;
}

}  // namespace

std::string to_record(const Measurement& m) {
  std::string line(kTag);
  write_fields(line, "", m, kMeasurementFields);
  line += ' ' + std::string(kReplicaCount) + '=' + std::to_string(m.replicas.size());
  for (std::size_t i = 0; i < m.replicas.size(); ++i)
    write_fields(line, replica_prefix(i), m.replicas[i], kReplicaFields);
  return line;
}

std::optional<Measurement> parse_record(std::string_view line) {
  if (line.substr(0, kTag.size()) != kTag) return std::nullopt;
  std::map<std::string, std::string, std::less<>> values;
  std::size_t start = kTag.size();
  while (start < line.size()) {
    if (line[start] != ' ') return std::nullopt;  // one space before each field
    const std::size_t end = std::min(line.find(' ', start + 1), line.size());
    const std::string_view token = line.substr(start + 1, end - start - 1);
    const std::size_t equals = token.find('=');
    if (equals == std::string_view::npos ||
        !values.emplace(token.substr(0, equals), token.substr(equals + 1)).second)
      return std::nullopt;  // not KEY=VALUE, or a key given twice
    start = end;
  }
  Measurement m;
  if (!read_fields(values, "", m, kMeasurementFields) || m.steps <= 0 || m.threads < 1 ||
      m.threads > kMaxThreads)
    return std::nullopt;
  std::uint64_t replicas = 0;
  const auto count = values.find(kReplicaCount);
  // No more replicas than threads: a garbled count never allocates much.
  if (count == values.end() || !read_value(count->second, &replicas) ||
      (replicas != 0 && replicas != std::uint64_t(m.threads)))
    return std::nullopt;
  values.erase(count);
  m.replicas.resize(replicas);
  for (std::size_t i = 0; i < m.replicas.size(); ++i) {
    if (!read_fields(values, replica_prefix(i), m.replicas[i], kReplicaFields)) return std::nullopt;
  }
  if (!values.empty()) return std::nullopt;  // a field the table does not know
  flag_noise(m);
  return m;
}

}  // namespace mga
