// Where the dataset comes from (issue 13: one location rule for every program
// and test) and the smaller defects of issue 12 (8): a read-only working
// directory blamed on curl, a /proc file's size, an empty data/ left by a
// failed download, and a newline in a path splitting the error line.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/dataset.hpp"
#include "tests/reliability/bench_cli.hpp"

namespace {

using namespace mga::test;
namespace fs = std::filesystem;

// A checkout beside a shared/ directory, as the team's worktrees are.
struct Layout {
  TempDir root;
  std::string checkout = root / "checkout";
  Layout() { fs::create_directories(checkout); }
  void shared_names(const std::string& text) {
    fs::create_directories(root.path() / "shared/data");
    root.write("shared/data/names.txt", text);
  }
  void local_names(const std::string& text) {
    fs::create_directories(fs::path(checkout) / "data");
    root.write("checkout/data/names.txt", text);
  }
  ProcessResult train(std::vector<std::string> args = {}) {
    args.insert(args.end(), {"--steps", "1", "--samples", "0"});
    return bench(args, {.working_directory = checkout});
  }
};

const std::string kShared = "ann\nbea\n";             // num docs: 2
const std::string kLocal = "ann\nbea\ncid\n";         // num docs: 3
const std::string kExplicit = "ann\nbea\ncid\ndo\n";  // num docs: 4

TEST(DatasetLocation, SharedCopyFirstThenDataThenExplicitOverAll) {
  Layout layout;
  layout.local_names(kLocal);
  auto r = layout.train();
  expect_success(r);
  EXPECT_EQ(r.out.rfind("num docs: 3\n", 0), 0U) << "data/names.txt without a shared copy";
  layout.shared_names(kShared);
  r = layout.train();
  expect_success(r);
  EXPECT_EQ(r.out.rfind("num docs: 2\n", 0), 0U) << "../shared/data/names.txt comes first";
  r = layout.train({"--data", layout.root.write("mine.txt", kExplicit)});
  expect_success(r);
  EXPECT_EQ(r.out.rfind("num docs: 4\n", 0), 0U) << "--data wins";
}

// The same rule as a function, for the programs and tests that are not bench_train.
TEST(DatasetLocation, OneHelperForEveryProgramAndTest) {
  Layout layout;
  EXPECT_THROW(mga::resolve_dataset("", {.base = layout.checkout, .download = false}),
               mga::DatasetError);
  layout.local_names(kLocal);
  EXPECT_EQ(mga::resolve_dataset("", {.base = layout.checkout, .download = false}),
            layout.checkout + "/data/names.txt");
  layout.shared_names(kShared);
  EXPECT_EQ(mga::resolve_dataset("", {.base = layout.checkout, .download = false}),
            (layout.root.path() / "shared/data/names.txt").string());
  EXPECT_EQ(mga::resolve_dataset("x.txt", {.base = layout.checkout}), "x.txt");
}

// Defect 8: an unwritable working directory was reported as "curl is not installed".
TEST(DatasetDefaults, ReadOnlyWorkingDirectoryIsNamedAsTheCause) {
  Layout layout;
  fs::permissions(layout.root.path(),
                  fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  fs::permissions(layout.checkout, fs::perms::owner_read | fs::perms::owner_exec |
                                       fs::perms::group_exec | fs::perms::others_exec);
  auto r = bench({"--steps", "1"}, {.working_directory = layout.checkout, .drop_root = true});
  expect_refused(r, kBadInput, "cannot create directory data");
  EXPECT_EQ(r.err.find("curl is not installed"), std::string::npos);
  EXPECT_TRUE(entries(layout.checkout).empty());
}

// Defect 8: a failed download left an empty data/ behind.
TEST(DatasetDefaults, FailedDownloadLeavesNothing) {
  Layout layout;
  const std::string fake_bin = layout.root / "bin";
  fs::create_directories(fake_bin);
  layout.root.write("bin/curl", "#!/bin/sh\necho 'curl: (7) Failed to connect' >&2\nexit 7\n");
  fs::permissions(fake_bin + "/curl", fs::perms::owner_all);
  auto r = bench({"--steps", "1"},
                 {.working_directory = layout.checkout, .environment = {"PATH=" + fake_bin}});
  expect_refused(r, kBadInput, "curl failed (exit 7: curl: (7) Failed to connect)");
  EXPECT_TRUE(entries(layout.checkout).empty()) << "data/ was left behind";
  r = bench({"--steps", "1"}, {.working_directory = layout.checkout,
                               .environment = {"PATH=" + (layout.root / "no")}});
  expect_refused(r, kBadInput, "curl is not installed");
  EXPECT_TRUE(entries(layout.checkout).empty()) << "data/ was left behind";
}

// Defect 8: files such as /proc's report size 0 ("17592186044415 MiB" came
// from a failed tellg); they are read, within the size limit, like any file.
TEST(DatasetDefaults, ProcFilesAreRead) {
  if (!fs::exists("/proc/version")) GTEST_SKIP() << "no /proc";
  auto r = bench(small_run("/proc/version"));
  expect_success(r);
  EXPECT_EQ(r.out.rfind("num docs: 1\n", 0), 0U) << r.out;
}

// Defect 8: a newline in a path split the error line; control characters are escaped.
TEST(DatasetDefaults, ControlCharactersInPathsStayOnOneLine) {
  TempDir dir;
  const std::string missing = dir / "two\nlines\r.txt";
  auto r = bench(small_run(missing));
  expect_refused(r, kBadInput, "two\\nlines\\r.txt");
  const std::string bad = dir.write("bad\nname.txt", "anna\n\xff\n");
  expect_refused(bench(small_run(bad)), kBadInput, "bad\\nname.txt");
  const std::string data = dir.write("names.txt", kNames);
  expect_refused(bench(small_run(data, {"--json", dir / "no\ndir/x.json"})), kBadInput, "no\\ndir");
  expect_refused(bench(small_run(data, {"--allocator", "new\nline"})), kBadInput, "new\\nline");
}

}  // namespace
