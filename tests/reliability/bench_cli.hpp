// Running the real bench_train from a test, and what its runs must look like:
// a refusal is one stderr line "bench_train: ..." with exit 2 (bad input) or 1
// (runtime failure); a success prints the summary and nothing on stderr.
//
// The binary is the one built with the tests, or $MGA_TEST_BENCH_TRAIN: point
// it at an older build to see the regression tests fail there.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/reliability/subprocess.hpp"

#ifndef MGA_BENCH_TRAIN
#error "MGA_BENCH_TRAIN must be the path of the bench_train binary"
#endif

namespace mga::test {

inline constexpr int kBadInput = 2;
inline constexpr int kRuntimeFailure = 1;
inline const std::string kNames = "anna\nbob\ncarl\ndave\nemma\nfrank\n";

inline std::string bench_train_path() {
  const char* other = std::getenv("MGA_TEST_BENCH_TRAIN");
  return other != nullptr && *other != '\0' ? other : MGA_BENCH_TRAIN;
}

inline ProcessResult bench(std::vector<std::string> args, RunOptions options = {}) {
  args.insert(args.begin(), bench_train_path());
  return run_process(args, options);
}

// Fast, small training runs: the hostile part is the input, not the size.
// `extra` may override --steps and --samples.
inline std::vector<std::string> small_run(const std::string& data,
                                          std::vector<std::string> extra = {}) {
  auto given = [&](const std::string& flag) {
    return std::find(extra.begin(), extra.end(), flag) != extra.end();
  };
  std::vector<std::string> args = {"--data", data};
  if (!given("--steps")) args.insert(args.end(), {"--steps", "2"});
  if (!given("--samples")) args.insert(args.end(), {"--samples", "1"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

inline std::string describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + ", signal " + std::to_string(r.signal) +
         (r.timed_out ? ", TIMED OUT" : "") + "\n--- stderr ---\n" + r.err +
         "--- stdout (first 2000 bytes) ---\n" + r.out.substr(0, 2000);
}

// A clean refusal: the exit code, and exactly one stderr line naming the program.
inline void expect_refused(const ProcessResult& r, int exit_code, const std::string& needle = "") {
  SCOPED_TRACE(describe(r));
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, exit_code);
  EXPECT_EQ(r.err.rfind("bench_train: ", 0), 0U) << "stderr must start with 'bench_train: '";
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.back(), '\n');
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "stderr must be exactly one line";
  if (!needle.empty()) {
    EXPECT_NE(r.err.find(needle), std::string::npos) << "missing: " << needle;
  }
}

inline void expect_success(const ProcessResult& r) {
  SCOPED_TRACE(describe(r));
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("--- summary ---"), std::string::npos);
}

// What microgpt printed (losses and samples), without the timing summary.
inline std::string microgpt_output(const ProcessResult& r) {
  return r.out.substr(0, r.out.find("\n--- summary ---"));
}

// The names of the entries of `dir`, sorted (to see that nothing was left behind).
inline std::vector<std::string> entries(const std::filesystem::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    found.push_back(entry.path().filename().string());
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace mga::test
