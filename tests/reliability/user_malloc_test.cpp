// Bring your own process allocator (issue 23, bench/user_malloc.hpp): the
// --malloc item and malloc-file parsers, the list that owns user allocators,
// and the checks before any run, probe included, on real files: a bogus path,
// a text file, a library without malloc, and a copy of mimalloc's library
// under another name, which works and is told as that user allocator in the
// process that runs on it.
//
// reliability_tests is its own probe and worker: its main (main.cpp) answers
// --malloc-probe as bench_train's does, and --active-malloc ITEM as a worker
// checks its malloc.
#include "bench/user_malloc.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <source_location>
#include <string>
#include <vector>

#include "tests/reliability/subprocess.hpp"
#include "tests/sanitizer.hpp"

namespace {

using mga::MallocSpec;
using mga::MallocUnavailable;
using namespace mga::test;
namespace fs = std::filesystem;

// The one-line message `fn` throws as MallocUnavailable, "" if it throws none.
template <class Fn>
std::string refusal(Fn&& fn) {
  try {
    fn();
  } catch (const MallocUnavailable& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    return e.what();
  }
  return "";
}

// That `fn` is refused with a message holding `needle` (failures name the caller's line).
template <class Fn>
void expect_refused(Fn&& fn, const std::string& needle,
                    std::source_location caller = std::source_location::current()) {
  const testing::ScopedTrace trace(caller.file_name(), int(caller.line()), needle);
  const std::string message = refusal(fn);
  EXPECT_NE(message.find(needle), std::string::npos) << "'" << message << "'";
}

std::string self() {
  return fs::read_symlink("/proc/self/exe").string();
}

// The built-in entry that preloads `file` (names of policies stay out of tests).
const mga::ProcessMalloc* builtin_preloading(std::string_view file) {
  for (const auto& m : mga::process_mallocs())
    if (m.preload == file) return &m;
  return nullptr;
}

TEST(MallocSpec, BuiltinsAllAndLibraries) {
  const std::string cwd = fs::current_path().string();
  for (const auto& m : mga::process_mallocs()) {
    const MallocSpec spec = mga::parse_malloc_spec(m.name);
    EXPECT_EQ(spec.name, m.name);
    EXPECT_EQ(spec.path, "");
  }
  EXPECT_EQ(mga::parse_malloc_spec("all").name, "all");
  const auto check = [](std::string_view item, std::string name, std::string path) {
    const MallocSpec spec = mga::parse_malloc_spec(item);
    EXPECT_EQ(spec.name, name) << item;
    EXPECT_EQ(spec.path, path) << item;
  };
  check("mine=/opt/x/libmine.so", "mine", "/opt/x/libmine.so");
  check("my.alloc_2-b=lib/../libz.so", "my.alloc_2-b", cwd + "/libz.so");
  check("/opt/x/libfoo.so.2.1", "foo", "/opt/x/libfoo.so.2.1");
  check("./bar.so", "bar", cwd + "/bar.so");
  check("libqux.so.1", "qux", cwd + "/libqux.so.1");
  check("/opt/libsome.sonic.so", "some.sonic", "/opt/libsome.sonic.so");
}

TEST(MallocSpec, RefusedInOneLine) {
  expect_refused([&] { mga::parse_malloc_spec(""); }, "empty");
  expect_refused([&] { mga::parse_malloc_spec("tcmallocc"); },
                 "unknown process allocator 'tcmallocc'");
  for (const auto& m : mga::process_mallocs()) {
    expect_refused([&] { mga::parse_malloc_spec("x"); },
                   std::string(m.name));  // every valid name listed
    expect_refused([&] { mga::parse_malloc_spec(std::string(m.name) + "=/opt/libx.so"); },
                   "built-in");
  }
  expect_refused([&] { mga::parse_malloc_spec("all=/opt/libx.so"); }, "'all'");
  expect_refused([&] { mga::parse_malloc_spec(".x=/opt/libx.so"); }, "not a plain name");
  expect_refused([&] { mga::parse_malloc_spec("-x=/opt/libx.so"); }, "not a plain name");
  expect_refused([&] { mga::parse_malloc_spec("a b=/opt/libx.so"); }, "not a plain name");
  expect_refused([&] { mga::parse_malloc_spec("=/opt/libx.so"); }, "not a plain name");
  expect_refused([&] { mga::parse_malloc_spec(std::string(65, 'a') + "=/opt/libx.so"); },
                 "plain name");
  expect_refused([&] { mga::parse_malloc_spec("x="); }, "path is empty");
  expect_refused([&] { mga::parse_malloc_spec("x=/opt/a:b.so"); }, "cannot hold ':'");
  expect_refused([&] { mga::parse_malloc_spec("x=/opt/a b.so"); }, "white space");
  expect_refused([&] { mga::parse_malloc_spec("/opt/new\nline/libx.so\n"); }, "/opt/new\\nline");
  expect_refused([&] { mga::parse_malloc_spec("/opt/lib.so"); }, "give --malloc=NAME=PATH");
  expect_refused([&] { mga::parse_malloc_spec("/opt/lib-x.so"); }, "give --malloc=NAME=PATH");
  ASSERT_NE(builtin_preloading("libjemalloc.so.2"), nullptr);
  expect_refused([&] { mga::parse_malloc_spec("/opt/libjemalloc.so.2"); }, "built-in");
  expect_refused([&] { mga::register_malloc_item("all"); }, "not one");
}

TEST(MallocFile, LinesCommentsAndRelativePaths) {
  const std::string text =
      "# my allocators\n"
      "\n"
      "  first   /opt/a/libfirst.so  \n"
      "\tsecond\tsub/libsecond.so.3\r\n"
      "   # indented comment\n"
      "third ../libthird.so";  // no newline at the end
  const auto specs = mga::parse_malloc_file_text(text, "f.txt", "/home/u/conf");
  ASSERT_EQ(specs.size(), 3U);
  EXPECT_EQ(specs[0].name, "first");
  EXPECT_EQ(specs[0].path, "/opt/a/libfirst.so");
  EXPECT_EQ(specs[1].name, "second");
  EXPECT_EQ(specs[1].path, "/home/u/conf/sub/libsecond.so.3");
  EXPECT_EQ(specs[2].name, "third");
  EXPECT_EQ(specs[2].path, "/home/u/libthird.so");
}

TEST(MallocFile, MalformedLinesNamedByNumber) {
  const auto parse = [](const std::string& text) {
    return mga::parse_malloc_file_text(text, "m.txt", "/etc");
  };
  expect_refused([&] { parse("# only a comment\n\n"); }, "m.txt: names no library");
  expect_refused([&] { parse(""); }, "m.txt: names no library");
  expect_refused([&] { parse("a /x/liba.so\n\nlonely\n"); },
                 "m.txt:3: expected 'NAME PATH', got 'lonely'");
  expect_refused([&] { parse("a /x/liba.so extra\n"); }, "m.txt:1: expected 'NAME PATH'");
  expect_refused([&] { parse("a /x/liba.so\nb /x/libb.so\na /x/libc.so\n"); },
                 "m.txt:3: 'a' is already named on line 1");
  expect_refused(
      [&] {
        parse("# c\n" + std::string(builtin_preloading("libjemalloc.so.2")->name) +
              " /x/liba.so\n");
      },
      "m.txt:2: '");
  expect_refused([&] { parse("all /x/liba.so\n"); }, "m.txt:1: 'all'");
  expect_refused([&] { parse("x\x01y /x/liba.so\n"); }, "m.txt:1: 'x?y' is not a plain name");
  expect_refused([&] { parse(".a /x/liba.so\n"); }, "m.txt:1: '.a' is not a plain name");
  expect_refused([&] { parse("a /x/li:ba.so\n"); }, "m.txt:1: '/x/li:ba.so': a path in LD_PRELOAD");
}

TEST(MallocFile, ReadFromDisk) {
  TempDir dir;
  const auto specs = mga::read_malloc_file(dir.write("m.txt", "mine libmine.so\n"));
  ASSERT_EQ(specs.size(), 1U);
  EXPECT_EQ(specs[0].path, dir / "libmine.so");
  expect_refused([&] { mga::read_malloc_file(dir / "absent.txt"); }, "No such file or directory");
  expect_refused([&] { mga::read_malloc_file(dir.path().string()); }, "not a regular file");
  const std::string big = dir / "big.txt";
  std::ofstream(big) << "x";
  fs::resize_file(big, (1 << 20) + 1);
  expect_refused([&] { mga::read_malloc_file(big); }, "larger than 1 MiB");
  expect_refused([&] { mga::read_malloc_file(dir.write("empty.txt", "")); }, "names no library");
}

TEST(UserMallocList, AddedOnceListedAndPassedToWorkers) {
  const mga::ProcessMalloc& m = mga::add_user_malloc("listed", "/opt/x/liblisted.so");
  EXPECT_EQ(&mga::add_user_malloc("listed", "/opt/x/liblisted.so"), &m) << "same name and file";
  expect_refused([&] { mga::add_user_malloc("listed", "/opt/y/liblisted.so"); },
                 "names two libraries");
  EXPECT_EQ(m.source, mga::MallocSource::user);
  EXPECT_EQ(mga::find_process_malloc("listed"), &m);
  const auto all = mga::all_process_mallocs();
  ASSERT_GT(all.size(), mga::process_mallocs().size());
  for (std::size_t i = 0; i < mga::process_mallocs().size(); ++i)
    EXPECT_EQ(all[i], &mga::process_mallocs()[i]) << "the built-ins first, in their order";
  EXPECT_NE(std::find(all.begin(), all.end(), &m), all.end());
  EXPECT_EQ(mga::malloc_argument(m), "listed=/opt/x/liblisted.so");
  EXPECT_EQ(&mga::register_malloc_item(mga::malloc_argument(m)), &m) << "what a worker does";
  EXPECT_EQ(mga::preload_path(*mga::process_mallocs().begin()), "");
  expect_refused([&] { mga::preload_path(m); }, "cannot read /opt/x/liblisted.so");
}

// ---- the checks before any run, and the worker's, on real files ----

class UserMallocFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kUnderAsan) GTEST_SKIP() << "ASan's runtime must come before any preload";
  }
  // The refusal of the library at `path`, added as `name`.
  std::string verify(const std::string& name, const std::string& path) {
    return refusal([&] { mga::verify_process_malloc(mga::add_user_malloc(name, path)); });
  }
  TempDir dir_;
};

TEST_F(UserMallocFiles, MissingDirectoryAndTextFileAreRefused) {
  EXPECT_NE(verify("bogus", "/nonexistent/libbogus.so").find("No such file or directory"),
            std::string::npos);
  EXPECT_NE(verify("folder", dir_.path().string()).find("is not a regular file"),
            std::string::npos);
  const std::string text = dir_.write("libtext.so", "not a library\n");
  const std::string message = verify("text", text);
  EXPECT_NE(message.find(text + " does not load as a library ("), std::string::npos) << message;
}

TEST_F(UserMallocFiles, LibraryWithoutMallocIsRefused) {
  const std::string libm = mga::library_of(dlsym(RTLD_DEFAULT, "cos"));
  ASSERT_NE(libm.find("libm.so"), std::string::npos) << libm;
  const std::string message = verify("mathlib", libm);
  EXPECT_NE(message.find(libm + " exports no malloc"), std::string::npos) << message;
  const mga::MallocProbe probe = mga::probe_malloc_library(libm);
  EXPECT_TRUE(probe.loaded);
  EXPECT_FALSE(probe.defines_malloc);
  EXPECT_NE(probe.malloc_library.find("libc.so"), std::string::npos) << probe.malloc_library;
}

// A copy of mimalloc's library under another name: accepted, preloaded where
// asked, and told as the user allocator, by its file, in the process.
TEST_F(UserMallocFiles, CopyOfALibraryIsThatUserAllocator) {
  const mga::ProcessMalloc* builtin = builtin_preloading("libmimalloc.so.2");
  ASSERT_NE(builtin, nullptr);
  const std::string original = mga::preload_path(*builtin);
  const std::string copy = dir_ / "libmine.so.7";
  fs::copy_file(original, copy);
  const mga::ProcessMalloc& mine = mga::register_malloc_item("mine=" + copy);
  EXPECT_EQ(verify("mine", copy), "");
  const mga::MallocProbe probe = mga::probe_malloc_library(copy);
  EXPECT_TRUE(probe.loaded && probe.defines_malloc);
  EXPECT_TRUE(mga::same_file(probe.malloc_library, copy)) << probe.malloc_library;

  auto active_in_child = [&](const std::string& item, std::vector<std::string> environment) {
    return run_process({self(), "--active-malloc", item}, {.environment = environment});
  };
  const auto ran =
      active_in_child(mga::malloc_argument(mine), mga::process_malloc_environment(mine));
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(ran.out, "mine user " + mga::file_sha256(copy) + "\n");
  EXPECT_EQ(mga::file_sha256(copy), mga::file_sha256(original));
  EXPECT_EQ(mga::file_sha256(copy).size(), 64U);

  // The same file asked for as the built-in is the built-in (its signature).
  const auto as_builtin = active_in_child(std::string(builtin->name), {"LD_PRELOAD=" + copy});
  EXPECT_EQ(as_builtin.out,
            std::string(builtin->name) + " builtin " + mga::file_sha256(copy) + "\n")
      << as_builtin.err;

  // Not preloaded: the check fails in one line.
  const auto without = active_in_child(mga::malloc_argument(mine), {"LD_PRELOAD"});
  EXPECT_EQ(without.exit_code, 1);
  EXPECT_NE(without.err.find("--malloc=mine is not in effect: malloc resolves into "),
            std::string::npos)
      << without.err;
}

// A bare path names the allocator by its file.
TEST_F(UserMallocFiles, BarePathIsNamedByItsFile) {
  const mga::ProcessMalloc* builtin = builtin_preloading("libtcmalloc_minimal.so.4");
  ASSERT_NE(builtin, nullptr);
  const std::string copy = dir_ / "libbare-alloc.so.1";
  fs::copy_file(mga::preload_path(*builtin), copy);
  const mga::ProcessMalloc& bare = mga::register_malloc_item(copy);
  EXPECT_EQ(bare.name, "bare-alloc");
  EXPECT_EQ(refusal([&] { mga::verify_process_malloc(bare); }), "");
}

}  // namespace
