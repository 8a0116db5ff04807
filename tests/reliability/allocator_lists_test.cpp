// Issue 23, item 3: --allocator=a,b and --malloc=x,y run exactly those, in
// that order, round-robin over --repeat as 'all' does, each cell in a fresh
// process; a repeated or unknown name is refused in one line that names the
// valid ones; the tape engines still take no --allocator.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/process_malloc.hpp"
#include "tests/reliability/bench_cli.hpp"
#include "tests/sanitizer.hpp"

namespace {

using namespace mga::test;

const std::string kData = std::string(MGA_SOURCE_DIR) + "/tests/cli/names_small.txt";

// The last two policies, in reverse registry order: not the order of 'all'.
const std::string kLater = mga::policy_names().back();
const std::string kEarlier = mga::policy_names().at(mga::policy_names().size() - 2);

ProcessResult one_step(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--steps", "1", "--samples", "0", "--data", kData};
  args.insert(args.end(), extra.begin(), extra.end());
  return bench(args, {.timeout_seconds = 120});
}

// The first word of each progress line on stderr after the "[i/n]" counter,
// and the word after it (the process allocator).
std::vector<std::pair<std::string, std::string>> progress(const std::string& err) {
  std::vector<std::pair<std::string, std::string>> cells;
  std::istringstream lines(err);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '[' || line.rfind("[check]", 0) == 0) continue;
    std::istringstream words(line.substr(line.find(']') + 1));
    std::string allocator, malloc;
    words >> allocator >> malloc;
    cells.emplace_back(allocator, malloc);
  }
  return cells;
}

// The first word of each row of the comparison table on stdout.
std::vector<std::string> table_rows(const std::string& out) {
  std::vector<std::string> rows;
  std::istringstream lines(out);
  bool in_table = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("allocator ", 0) == 0) {
      in_table = true;
    } else if (in_table && line.empty()) {
      break;
    } else if (in_table) {
      rows.push_back(line.substr(0, line.find(' ')));
    }
  }
  return rows;
}

TEST(AllocatorLists, RunExactlyThoseInThatOrderRoundRobin) {
  const auto r = one_step({"--allocator=" + kLater + "," + kEarlier, "--repeat", "2"});
  SCOPED_TRACE(describe(r));
  ASSERT_EQ(r.exit_code, 0);
  std::vector<std::string> order;
  for (const auto& [allocator, malloc] : progress(r.err)) order.push_back(allocator);
  EXPECT_EQ(order, (std::vector<std::string>{kLater, kEarlier, kLater, kEarlier}));
  EXPECT_EQ(table_rows(r.out), (std::vector<std::string>{kLater, kEarlier}));
  EXPECT_NE(r.out.find("output: identical in every run"), std::string::npos);
}

TEST(AllocatorLists, OneNameIsOneInProcessRun) {
  const auto r = one_step({"--allocator=" + kLater, "--quiet"});
  expect_success(r);
  EXPECT_NE(r.out.find("allocator     " + kLater + " ("), std::string::npos) << r.out;
}

TEST(AllocatorLists, MallocListsRunInTheirOrderUnderEachPolicy) {
  if (kUnderAsan) GTEST_SKIP() << "ASan supplies malloc itself";
  // Two process allocators that need no library: glibc's own malloc, and a tunable of it.
  std::vector<std::string> builtin;
  for (const auto& m : mga::process_mallocs())
    if (m.preload.empty()) builtin.emplace_back(m.name);
  ASSERT_GE(builtin.size(), 2U);
  const auto r = one_step(
      {"--malloc=" + builtin[1] + "," + builtin[0], "--allocator=" + kLater + "," + kEarlier});
  SCOPED_TRACE(describe(r));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(progress(r.err),
            (std::vector<std::pair<std::string, std::string>>{{kLater, builtin[1]},
                                                              {kEarlier, builtin[1]},
                                                              {kLater, builtin[0]},
                                                              {kEarlier, builtin[0]}}));
}

std::string valid_allocators() {
  std::string valid = "valid: all";
  for (const auto& name : mga::policy_names()) valid += ", " + name;
  return valid;
}

TEST(AllocatorLists, RepeatedUnknownAndEmptyNamesAreRefusedNamingTheValidOnes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {kLater + "," + kLater, "--allocator: " + kLater + " is given twice; "},
      {kLater + ",no-such-policy", "--allocator: unknown allocator 'no-such-policy'; "},
      {kLater + ",", "--allocator: unknown allocator ''; "},
      {"all," + kLater, "--allocator: 'all' stands alone, not in a list; "},
  };
  for (const auto& [list, reason] : cases) {
    SCOPED_TRACE(list);
    const auto r = one_step({"--allocator=" + list});
    expect_refused(r, kBadInput, reason + valid_allocators() + "\n");
  }
  std::string valid_mallocs = "valid: all";
  for (const auto& m : mga::process_mallocs()) valid_mallocs += ", " + std::string(m.name);
  valid_mallocs += ", NAME=PATH or a library's path";
  const std::string malloc(mga::process_mallocs()[0].name);
  expect_refused(one_step({"--malloc=" + malloc + "," + malloc}), kBadInput,
                 "--malloc: " + malloc + " is given twice; " + valid_mallocs + "\n");
  expect_refused(one_step({"--malloc=" + malloc + ",bogus"}), kBadInput,
                 "--malloc: unknown process allocator 'bogus'; " + valid_mallocs + "\n");
}

TEST(AllocatorLists, TapeEnginesTakeNoAllocatorList) {
  for (const std::string engine : {"tape", "tape-exact"}) {
    expect_refused(one_step({"--engine=" + engine, "--allocator=" + kLater + "," + kEarlier}),
                   kBadInput, "--allocator: the " + engine + " engine has no allocation policy");
  }
}

TEST(AllocatorLists, BackgroundReleaseRefusesANamedPolicyThatCannot) {
  const std::string single(mga::policy_with(&mga::PolicyTraits::cross_thread_release));
  std::string cannot;
  for (const auto& name : mga::policy_names())
    if (cannot.empty() && !mga::traits_of(name).cross_thread_release) cannot = name;
  ASSERT_FALSE(cannot.empty());
  expect_refused(one_step({"--release=background", "--allocator=" + single + "," + cannot}),
                 kBadInput, "--release: " + cannot + " cannot give nodes back on another thread");
}

}  // namespace
