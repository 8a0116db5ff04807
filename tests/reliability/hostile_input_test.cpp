// Hostile input to the real bench_train binary. Every refusal must be one
// line on stderr starting with "bench_train: ", with exit code 2 for bad input
// and 1 for a runtime failure; nothing may crash, hang or be half-written.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "tests/reliability/bench_cli.hpp"
#include "tests/sanitizer.hpp"

namespace {

using namespace mga::test;

// ---- command line -------------------------------------------------------------

TEST(HostileInput, UnknownAllocatorListsTheValidOnes) {
  TempDir dir;
  auto r = bench(small_run(dir.write("names.txt", kNames), {"--allocator", "no-such-policy"}));
  expect_refused(r, kBadInput, "no-such-policy");
  for (const auto& name : mga::policy_names()) {
    EXPECT_NE(r.err.find(name), std::string::npos) << name << " is not listed";
  }
  EXPECT_NE(r.err.find("all"), std::string::npos);
}

TEST(HostileInput, BadNumbersAreRefused) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  const std::vector<std::vector<std::string>> cases = {
      {"--steps", "-1"},
      {"--steps=-1"},
      {"--steps", "abc"},
      {"--steps", "0"},
      {"--steps", "1e99"},
      {"--steps", "99999999999999999999"},
      {"--n-embd", "0"},
      {"--n-embd", "-16"},
      {"--n-head", "0"},
      {"--n-layer", "0"},
      {"--block-size", "0"},
      {"--samples", "-1"},
      {"--repeat", "0"},
      {"--rng", "rand"},
      {"--topo", "bfs"},
      {"--no-such-option"},
      {"--data"},
      {"stray-positional"},
      {"--seed", "x"},
      {"--n-embd", "16.5"},
  };
  for (const auto& extra : cases) {
    std::vector<std::string> args = {"--steps", "2", "--samples", "1", "--data", data};
    args.insert(args.end(), extra.begin(), extra.end());
    SCOPED_TRACE(extra[0] + (extra.size() > 1 ? " " + extra[1] : ""));
    expect_refused(bench(args), kBadInput);
  }
}

TEST(HostileInput, EmbdNotDivisibleByHead) {
  TempDir dir;
  auto r = bench(small_run(dir.write("names.txt", kNames), {"--n-embd", "10", "--n-head", "4"}));
  expect_refused(r, kBadInput, "divisible");
}

TEST(HostileInput, AbsurdSizesAreRefusedQuickly) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames);
  // A 65536-block model is absurd only with a document that long (issue 12:
  // the estimate follows the data, not --block-size).
  const std::string long_doc = dir.write("long.txt", std::string(70000, 'a') + "\nbob\n");
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {data, {"--n-embd", "4096", "--n-layer", "256", "--block-size", "65536"}},
      {data, {"--n-embd", "4096", "--n-layer", "1", "--block-size", "1"}},  // parameters: 11 GiB
      {long_doc, {"--n-embd", "16", "--n-layer", "1", "--block-size", "65536"}},
      {data,
       {"--allocator", "all", "--n-embd", "4096", "--n-layer", "256", "--block-size", "65536"}},
  };
  for (const auto& [path, extra] : cases) {
    SCOPED_TRACE(extra[1]);
    auto r = bench(small_run(path, extra), {.timeout_seconds = 30});
    expect_refused(r, kBadInput, "needs an estimated");
    EXPECT_LT(r.seconds, 10.0) << "the model must be refused, not attempted";
  }
}

// ---- datasets -------------------------------------------------------------------

TEST(HostileInput, MissingDataset) {
  TempDir dir;
  const std::string missing = dir / "no-such-file.txt";
  expect_refused(bench(small_run(missing)), kBadInput, missing);
  expect_refused(bench(small_run(missing, {"--allocator", "all"})), kBadInput, missing);
  EXPECT_FALSE(std::filesystem::exists(missing)) << "a given --data path is never downloaded";
}

TEST(HostileInput, EmptyDataPathIsRefusedNotDownloaded) {
  TempDir dir;
  auto r = bench({"--data", "", "--steps", "2"});
  expect_refused(r, kBadInput, "--data");
  auto r2 = bench({"--data=", "--steps", "2"});
  expect_refused(r2, kBadInput);
}

// Opening a FIFO for reading blocks until a writer comes: it must be refused
// without being opened, as must devices and pipes (which have no size).
TEST(HostileInput, NonRegularFilesAreRefusedWithoutHanging) {
  TempDir dir;
  const std::string fifo = dir / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {fifo, std::string("/dev/zero"), std::string("/dev/null")}) {
    SCOPED_TRACE(path);
    auto r = bench(small_run(path), {.timeout_seconds = 20});
    expect_refused(r, kBadInput, "not a regular file");
  }
}

TEST(HostileInput, DatasetIsADirectory) {
  TempDir dir;
  expect_refused(bench(small_run(dir.path().string())), kBadInput, "directory");
}

TEST(HostileInput, EmptyDataset) {
  TempDir dir;
  expect_refused(bench(small_run(dir.write("empty.txt", ""))), kBadInput, "no names");
}

TEST(HostileInput, OnlyBlankLines) {
  TempDir dir;
  expect_refused(bench(small_run(dir.write("blank.txt", "\n\n   \n\t\r\n \r\n\n"))), kBadInput,
                 "no names");
}

TEST(HostileInput, LineEndingsAndBlankLinesDoNotChangeTraining) {
  TempDir dir;
  const std::string lf = dir.write("lf.txt", kNames);
  const std::string crlf =
      dir.write("crlf.txt", "anna\r\nbob\r\ncarl\r\ndave\r\nemma\r\nfrank\r\n");
  const std::string cr = dir.write("cr.txt", "anna\rbob\rcarl\rdave\remma\rfrank");
  const std::string blanks =
      dir.write("blanks.txt", "\n\nanna\n\n\nbob\n  \ncarl  \n\tdave\n\r\nemma\n\n frank \n\n\n");
  auto reference = bench(small_run(lf, {"--steps", "5", "--samples", "3"}));
  expect_success(reference);
  for (const auto& path : {crlf, cr, blanks}) {
    SCOPED_TRACE(path);
    auto r = bench(small_run(path, {"--steps", "5", "--samples", "3"}));
    expect_success(r);
    EXPECT_EQ(microgpt_output(r), microgpt_output(reference));
  }
  EXPECT_NE(reference.out.find("num docs: 6\nvocab size: 14\n"), std::string::npos)
      << reference.out;
}

TEST(HostileInput, NonAsciiUtf8NamesTrain) {
  TempDir dir;
  // 2-, 3- and 4-byte sequences; a BOM-free file; NBSP (U+00A0) is stripped like Python does.
  const std::string data = dir.write("utf8.txt",
                                     "zoë\nrenée\n李雷\n\xc2\xa0"
                                     "chloé\xc2\xa0\nłukasz\n😀ok\n");
  auto r = bench(small_run(data, {"--samples", "5"}));
  expect_success(r);
  // Distinct code points: z o ë r e n é 李 雷 c h l ł u k a s 😀 = 18, plus BOS.
  EXPECT_NE(r.out.find("num docs: 6\nvocab size: 19\n"), std::string::npos) << r.out;
}

TEST(HostileInput, InvalidUtf8IsRefused) {
  TempDir dir;
  const std::vector<std::string> bad = {
      "anna\n\x80\n",  // lone continuation byte
      "anna\nbo\xff"
      "b\n",                           // 0xff is never valid
      "anna\n\xc0\xaf\n",              // overlong '/'
      "anna\n\xe0\x80\xaf\n",          // overlong, 3 bytes
      "anna\n\xed\xa0\x80\n",          // UTF-16 surrogate
      "anna\n\xf4\x90\x80\x80\n",      // above U+10FFFF
      "anna\nbob\xc3",                 // truncated at end of file
      "anna\nbob\xe2\x82\n",           // truncated before a newline
      "\xfe\xff\x00a\x00n\x00n\x00a",  // UTF-16 with BOM
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    const std::string path = dir.write("bad" + std::to_string(i) + ".txt", bad[i]);
    expect_refused(bench(small_run(path)), kBadInput, "not valid UTF-8");
  }
}

TEST(HostileInput, TenMegabyteSingleLine) {
  TempDir dir;
  std::string line(10 << 20, 'a');
  for (std::size_t i = 0; i < line.size(); ++i) line[i] = char('a' + (i * 7 + i / 26) % 26);
  const std::string path = dir.write("huge.txt", line);
  line.clear();
  auto r = bench(small_run(path), {.timeout_seconds = 120});
  SCOPED_TRACE(describe(r));
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.signal, 0);
  if (r.exit_code == 0) {
    expect_success(r);
    EXPECT_NE(r.out.find("num docs: 1\nvocab size: 27\n"), std::string::npos);
  } else {
    expect_refused(r, kBadInput);
  }
}

TEST(HostileInput, NulBytesAreOrdinaryCharacters) {
  TempDir dir;
  const std::string path = dir.write("nul.txt", std::string("an\0na\nbob\n", 10));
  auto r = bench(small_run(path));
  expect_success(r);
  EXPECT_NE(r.out.find("num docs: 2\nvocab size: 6\n"), std::string::npos) << r.out;
}

// Results that cannot be written are a runtime failure, not a silent success.
TEST(HostileInput, FullDiskForStdoutIsAFailure) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  auto r = bench(small_run(dir.write("names.txt", kNames)), {.stdout_path = "/dev/full"});
  expect_refused(r, kRuntimeFailure, "standard output");
}

// ---- --json -----------------------------------------------------------------------

// No temporary files left beside the target.
void expect_only(const std::filesystem::path& dir, const std::vector<std::string>& names) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    found.push_back(entry.path().filename().string());
  std::sort(found.begin(), found.end());
  std::vector<std::string> expected = names;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(found, expected);
}

TEST(HostileInput, UnwritableJsonIsRefusedBeforeTraining) {
  TempDir dir;
  TempDir out;
  const std::string data = dir.write("names.txt", kNames);
  for (const std::string& target :
       {std::string("/proc/nope/x.json"), out.path().string(), out / "missing/dir/x.json"}) {
    SCOPED_TRACE(target);
    auto r = bench(small_run(data, {"--json", target}));
    expect_refused(r, kBadInput, "cannot write");
    EXPECT_EQ(r.out.find("step"), std::string::npos) << "it must not train first";
  }
  expect_only(out.path(), {});
}

TEST(HostileInput, FailingRunKeepsTheExistingJson) {
  TempDir dir;
  TempDir out;
  const std::string json = out / "result.json";
  const std::string good = "{\"good\": true}\n";
  const std::string bad_data = dir.write("bad.txt", "anna\n\xff\n");
  const std::string data = dir.write("names.txt", kNames);

  out.write("result.json", good);
  expect_refused(bench(small_run(bad_data, {"--json", json})), kBadInput, "UTF-8");
  expect_refused(bench(small_run(data, {"--json", json, "--n-embd", "10", "--n-head", "3"})),
                 kBadInput);
  const std::string long_doc = dir.write("long.txt", std::string(70000, 'a') + "\n");
  expect_refused(bench(small_run(long_doc, {"--json", json, "--block-size", "65536"})), kBadInput);
  expect_refused(bench(small_run(dir / "missing.txt", {"--json", json, "--allocator", "all"})),
                 kBadInput);
  EXPECT_EQ(slurp(json), good);
  expect_only(out.path(), {"result.json"});

  // A successful run does replace it, so the checks above mean something.
  expect_success(bench(small_run(data, {"--json", json})));
  EXPECT_NE(slurp(json), good);
  EXPECT_EQ(slurp(json).rfind("{", 0), 0U);
  expect_only(out.path(), {"result.json"});
}

// Running out of memory in the middle of training is a runtime failure: exit 1,
// one line, and the previous JSON survives. (ASan reserves terabytes of address
// space for its shadow memory, so RLIMIT_AS cannot be used under it.)
TEST(HostileInput, OutOfMemoryMidRunKeepsTheExistingJson) {
#ifdef MGA_UNDER_ASAN
  GTEST_SKIP() << "RLIMIT_AS is incompatible with AddressSanitizer";
#else
  TempDir dir;
  TempDir out;
  const std::string json = out / "result.json";
  const std::string good = "{\"good\": true}\n";
  out.write("result.json", good);
  const std::string data = dir.write("names.txt", kNames);
  for (const std::string& allocator : mga::policy_names()) {
    SCOPED_TRACE(allocator);
    auto r = bench(small_run(data, {"--json", json, "--allocator", allocator, "--n-embd", "128",
                                    "--n-layer", "4"}),
                   {.timeout_seconds = 60, .address_space_limit = 192ULL << 20});
    expect_refused(r, kRuntimeFailure, "out of memory");
    EXPECT_EQ(slurp(json), good);
  }
  expect_only(out.path(), {"result.json"});
#endif
}

}  // namespace
