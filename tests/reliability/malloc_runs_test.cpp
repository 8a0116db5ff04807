// --malloc end to end (issue 23): the real bench_train runs under the built-in
// tbbmalloc and scudo, under a user's library given as NAME=PATH, as a bare
// path and in a --malloc-file, in lists with the built-ins; each worker
// verifies its allocator, and the JSON says which library (its SHA-256, as
// sha256sum computes it) and where it came from. A bad library or malloc file
// is refused in one line before any run, and no JSON is written.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bench/process_malloc.hpp"
#include "tests/reliability/bench_cli.hpp"
#include "tests/reliability/json_values.hpp"
#include "tests/sanitizer.hpp"

namespace {

using namespace mga::test;
namespace fs = std::filesystem;

// The built-in that preloads `file` (names of policies stay out of tests).
const mga::ProcessMalloc* builtin_preloading(std::string_view file) {
  for (const auto& m : mga::process_mallocs())
    if (m.preload == file) return &m;
  return nullptr;
}

std::string sha256sum(const std::string& path) {
  const auto r = run_process({"/usr/bin/sha256sum", path});
  return r.exit_code == 0 ? r.out.substr(0, 64) : "sha256sum failed: " + r.err;
}

// The values of `key` in the JSON's runs, one per cell.
std::vector<std::string> run_values(const std::string& json, const std::string& key) {
  std::vector<std::string> values;
  for (const auto& value : json_values(json.substr(json.find("\"runs\": ")), key))
    values.push_back(unquoted(value));
  return values;
}

class MallocRuns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kUnderAsan) GTEST_SKIP() << "ASan's runtime must come before any preload";
  }
  // bench_train with `extra`, one step, writing json_; its JSON, "" on failure.
  std::string run(std::vector<std::string> extra) {
    extra.insert(extra.end(), {"--steps", "1", "--samples", "0", "--quiet", "--json", json_});
    result_ = bench(small_run(data_, extra), {.timeout_seconds = 120});
    EXPECT_EQ(result_.exit_code, 0) << describe(result_);
    return result_.exit_code == 0 ? slurp(json_) : "";
  }
  // The path of built-in `m`'s library, or skip.
  std::string installed(const mga::ProcessMalloc* m) {
    try {
      if (m != nullptr) return mga::preload_path(*m);
    } catch (const mga::MallocUnavailable&) {
    }
    return "";
  }
  // A copy of mimalloc's library as dir_/file.
  std::string copy_of_mimalloc(const std::string& file) {
    const std::string original = installed(builtin_preloading("libmimalloc.so.2"));
    if (original.empty()) return "";
    fs::copy_file(original, dir_ / file);
    return dir_ / file;
  }
  TempDir dir_;
  std::string data_ = dir_.write("names.txt", kNames);
  std::string json_ = dir_ / "out.json";
  ProcessResult result_;
};

// Issue 23, item a: each worker runs on the library asked for, and says which.
TEST_F(MallocRuns, TbbmallocAndScudoRunInTheirWorkers) {
  const auto* tbb = builtin_preloading("libtbbmalloc_proxy.so.2");
  const auto* scudo = builtin_preloading("libclang_rt.scudo_standalone-x86_64.so");
  const std::string tbb_path = installed(tbb), scudo_path = installed(scudo);
  if (tbb_path.empty() || scudo_path.empty()) GTEST_SKIP() << "tbbmalloc or scudo not installed";
  const std::string names = std::string(tbb->name) + "," + std::string(scudo->name);
  const std::string json = run({"--malloc=" + names});
  EXPECT_EQ(run_values(json, "malloc"),
            (std::vector<std::string>{std::string(tbb->name), std::string(scudo->name)}));
  EXPECT_EQ(run_values(json, "malloc_source"), (std::vector<std::string>{"builtin", "builtin"}));
  const auto libraries = run_values(json, "malloc_library");
  ASSERT_EQ(libraries.size(), 2U);
  EXPECT_TRUE(mga::same_file(libraries[0], tbb_path)) << libraries[0];
  EXPECT_TRUE(mga::same_file(libraries[1], scudo_path)) << libraries[1];
  EXPECT_EQ(run_values(json, "malloc_sha256"),
            (std::vector<std::string>{sha256sum(tbb_path), sha256sum(scudo_path)}));
  EXPECT_EQ(json_values(json, "malloc_" + std::string(scudo->name) + "_sha256"),
            std::vector<std::string>{"\"" + sha256sum(scudo_path) + "\""});
}

// Items b and 6: a user's library as NAME=PATH and as a bare path, in a list
// with a built-in; glibc's own malloc has no SHA-256 (null).
TEST_F(MallocRuns, UserLibrariesByNameAndByPathInAList) {
  const std::string mine = copy_of_mimalloc("libmine.so.2"),
                    bare = copy_of_mimalloc("libbare.so.1");
  if (mine.empty()) GTEST_SKIP() << "mimalloc not installed";
  const std::string glibc(mga::kDefaultMalloc);
  const std::string json = run({"--malloc=" + glibc + ",mine=" + mine + "," + bare});
  EXPECT_EQ(run_values(json, "malloc"), (std::vector<std::string>{glibc, "mine", "bare"}));
  EXPECT_EQ(run_values(json, "malloc_source"),
            (std::vector<std::string>{"builtin", "user", "user"}));
  EXPECT_EQ(run_values(json, "malloc_library"),
            (std::vector<std::string>{run_values(json, "malloc_library").at(0), mine, bare}));
  EXPECT_EQ(run_values(json, "malloc_sha256"),
            (std::vector<std::string>{"null", sha256sum(mine), sha256sum(bare)}));
  EXPECT_EQ(json_values(json, "malloc_mine_path"), std::vector<std::string>{"\"" + mine + "\""});
}

// Item b: a malloc file's libraries join --malloc=all after the built-ins.
TEST_F(MallocRuns, MallocFileJoinsAllAfterTheBuiltins) {
  std::vector<std::string> expected;
  for (const auto& m : mga::process_mallocs()) {
    if (!m.preload.empty() && installed(&m).empty()) GTEST_SKIP() << m.name << " not installed";
    expected.emplace_back(m.name);
  }
  if (copy_of_mimalloc("libmine.so.2").empty()) GTEST_SKIP() << "mimalloc not installed";
  expected.push_back("mine");
  const std::string file = dir_.write("mallocs.txt", "# a user's allocator\nmine libmine.so.2\n");
  const std::string json = run({"--malloc=all", "--malloc-file", file});
  EXPECT_EQ(run_values(json, "malloc"), expected);
  EXPECT_EQ(run_values(json, "malloc_source").back(), "user");
}

// Item c: refused before any run, in one line, exit 2, nothing written.
TEST_F(MallocRuns, BadLibrariesAndFilesAreRefusedBeforeAnyRun) {
  const std::string libm = dir_ / "libm-copy.so.6";
  for (const char* candidate :
       {"/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6"})
    if (fs::exists(candidate) && !fs::exists(libm)) fs::copy_file(candidate, libm);
  ASSERT_TRUE(fs::exists(libm));
  const std::string text = dir_.write("libtext.so", "not a library\n");
  const std::string malformed = dir_.write("bad.txt", "mine " + libm + "\nonly-a-name\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--malloc=bogus=" + (dir_ / "missing/libbogus.so")}, "No such file or directory"},
      {{"--malloc=text=" + text}, "does not load as a library"},
      {{"--malloc=" + libm}, "exports no malloc"},
      {{"--malloc=all", "--malloc-file", malformed}, "bad.txt:2: expected 'NAME PATH'"},
      {{"--malloc=mine=" + (dir_ / "a,b") + "/libx.so"}, "split at every ','"},
  };
  const auto before = entries(dir_.path());
  for (const auto& [extra, needle] : cases) {
    std::vector<std::string> args = extra;
    args.insert(args.end(), {"--json", json_});
    expect_refused(bench(small_run(data_, args)), kBadInput, needle);
    EXPECT_EQ(entries(dir_.path()), before) << "no JSON written";
  }
}

}  // namespace
