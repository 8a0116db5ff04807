// The worker record (bench/record.hpp): what a worker prints is what the
// parent reads, field for field, and a line that is not exactly a record is
// refused.
#include "bench/record.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

void expect_same(const mga::Measurement& a, const mga::Measurement& b) {
  EXPECT_EQ(a.allocator, b.allocator);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.train_seconds, b.train_seconds);
  EXPECT_EQ(a.phases.forward, b.phases.forward);
  EXPECT_EQ(a.phases.backward, b.phases.backward);
  EXPECT_EQ(a.phases.adam, b.phases.adam);
  EXPECT_EQ(a.phases.release, b.phases.release);
  EXPECT_EQ(a.train_nodes, b.train_nodes);
  EXPECT_EQ(a.alloc.allocations, b.alloc.allocations);
  EXPECT_EQ(a.alloc.frees, b.alloc.frees);
  EXPECT_EQ(a.alloc.bytes, b.alloc.bytes);
  EXPECT_EQ(a.peak_rss_kib, b.peak_rss_kib);
  EXPECT_EQ(a.output_hash, b.output_hash);
  EXPECT_EQ(a.final_loss, b.final_loss);
  EXPECT_EQ(a.malloc, b.malloc);
  EXPECT_EQ(a.malloc_library, b.malloc_library);
  EXPECT_EQ(a.malloc_source, b.malloc_source);
  EXPECT_EQ(a.malloc_sha256, b.malloc_sha256);
  // The noise readings travel as text (%.9g), the flags are made again: the JSON is the same.
  EXPECT_EQ(mga::noise_json(a.noise), mga::noise_json(b.noise));
  EXPECT_EQ(a.threads, b.threads);
  EXPECT_EQ(a.release, b.release);
  ASSERT_EQ(a.replicas.size(), b.replicas.size());
  for (std::size_t i = 0; i < a.replicas.size(); ++i) {
    SCOPED_TRACE("replica " + std::to_string(i + 1));
    EXPECT_EQ(a.replicas[i].seed, b.replicas[i].seed);
    EXPECT_EQ(a.replicas[i].train_seconds, b.replicas[i].train_seconds);
    EXPECT_EQ(a.replicas[i].output_hash, b.replicas[i].output_hash);
    EXPECT_EQ(a.replicas[i].final_loss, b.replicas[i].final_loss);
  }
}

// Every field differs from its default and from the others.
mga::Measurement single_run() {
  mga::Measurement m;
  m.allocator = "some-policy";
  m.steps = 1000;
  m.train_seconds = 0.1;  // not exact in binary: the record must keep every bit
  m.phases = {1.0 / 3, 2e-300, 0.30000000000000004, 123456.789};
  m.train_nodes = 58'000'123;
  m.alloc = {17, 16, std::numeric_limits<std::uint64_t>::max()};
  m.peak_rss_kib = 40'960;
  m.output_hash = 14695981039346656037ULL;
  m.final_loss = 2.6549;
  m.malloc = "glibc-nofastbins";
  m.malloc_library = "/usr/lib/x86_64-linux-gnu/libc.so.6";
  m.malloc_source = "user";
  m.malloc_sha256 = std::string(64, 'f');
  m.noise = {1.25, 0.5, 0.125, 7.5, {}};
  m.noise.flags = mga::noise_flags(0.5, 0.125, 7.5, mga::NoiseProbe::online_cores());
  return m;
}

mga::Measurement thread_run() {
  mga::Measurement m = single_run();
  m.threads = 3;
  m.release = mga::ReleaseMode::background;
  m.replicas = {
      {"-1", 0.5, 12345, 2.5}, {"0", 0.25, 0, 3.5}, {"100000000000000000000", 1e-9, ~0ULL, -0.0}};
  mga::flag_noise(m);  // its threads can wait for each other: the flags say so
  return m;
}

TEST(WorkerRecord, RoundTripsEveryField) {
  mga::Measurement odd_text = single_run();
  // A file name may hold any byte: spaces, '=', '%', a newline, non-UTF-8.
  odd_text.malloc = "my malloc=%41";
  odd_text.malloc_library = "/tmp/a dir/lib\n\x01\xff\xe9.so";
  odd_text.allocator = "";
  odd_text.malloc_sha256 = "";            // glibc's
  odd_text.noise.steal_fraction.reset();  // unreadable
  odd_text.noise.load_average.reset();
  odd_text.noise.flags = mga::noise_flags(0.5, std::nullopt, std::nullopt, 1);
  for (const mga::Measurement& m : {single_run(), thread_run(), odd_text}) {
    const std::string line = mga::to_record(m);
    SCOPED_TRACE(line);
    EXPECT_EQ(line.find('\n'), std::string::npos) << "one line";
    const auto parsed = mga::parse_record(line);
    ASSERT_TRUE(parsed.has_value());
    expect_same(*parsed, m);
  }
}

// The record's fields, as " KEY=VALUE" tokens.
std::vector<std::string> tokens(const std::string& line) {
  std::vector<std::string> found;
  for (std::size_t start = line.find(' '); start != std::string::npos;) {
    const std::size_t end = line.find(' ', start + 1);
    found.push_back(line.substr(start, end - start));
    start = end;
  }
  return found;
}

TEST(WorkerRecord, EveryFieldIsRequired) {
  const std::string line = mga::to_record(thread_run());
  const auto fields = tokens(line);
  ASSERT_GT(fields.size(), 20U);
  for (const std::string& field : fields) {
    std::string without = line;
    without.erase(without.find(field), field.size());
    EXPECT_FALSE(mga::parse_record(without).has_value()) << "without" << field;
    EXPECT_FALSE(mga::parse_record(line + field).has_value()) << field << " twice";
  }
}

TEST(WorkerRecord, RefusesWhatIsNotExactlyARecord) {
  const std::string line = mga::to_record(single_run());
  auto replaced = [&](const std::string& field, const std::string& value) {
    const std::size_t start = line.find(" " + field + "=") + field.size() + 2;
    return line.substr(0, start) + value +
           line.substr(std::min(line.find(' ', start), line.size()));
  };
  ASSERT_TRUE(mga::parse_record(replaced("steps", "7")).has_value());
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"steps", "0"},        {"steps", "1x"},           {"steps", ""},
      {"steps", "-3"},       {"output_hash", "-1"},     {"train_seconds", "nan"},
      {"final_loss", "inf"}, {"train_seconds", "0x1"},  {"release", "sideways"},
      {"threads", "0"},      {"threads", "1000000000"}, {"replicas", "2"},
      {"malloc", "%4"},      {"malloc", "%G1"},         {"train_nodes", "1e3"},
  };
  for (const auto& [field, value] : bad) {
    EXPECT_FALSE(mga::parse_record(replaced(field, value)).has_value()) << field << "=" << value;
  }
  // Noise: four words, %-escaped (noise_words), numbers not below 0.
  for (const std::string noise : {"", "1%200.5%200.1", "1%20x%20-%20-", "1%20-1%20-%20-"})
    EXPECT_FALSE(mga::parse_record(replaced("noise", noise)).has_value()) << "noise=" << noise;
  EXPECT_FALSE(mga::parse_record(line + " unknown=1").has_value());
  EXPECT_FALSE(mga::parse_record(line + " ").has_value());
  EXPECT_FALSE(mga::parse_record(line + "  steps=1").has_value());
  EXPECT_FALSE(mga::parse_record("mga-recordx" + line.substr(line.find(' '))).has_value());
  EXPECT_FALSE(mga::parse_record("mga-record this is not a record").has_value());
  EXPECT_FALSE(mga::parse_record("").has_value());
}

}  // namespace
