// bench_train's options (bench/options.hpp): to_args writes what
// parse_command_line reads back, for every option, and a worker's command
// line (to_args of worker_options) runs exactly its cell.
#include "bench/options.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/cells.hpp"
#include "bench/malloc_list.hpp"
#include "bench/process_malloc.hpp"

namespace {

using Args = std::vector<std::string>;

std::string describe(const Args& args) {
  std::string text;
  for (const auto& arg : args) text += (text.empty() ? "" : " ") + arg;
  return text;
}

mga::Options parse(Args args) {
  args.insert(args.begin(), "bench_train");
  return mga::parse_command_line(args).options;
}

// Two policies, a policy that can give nodes back on another thread, two
// process allocators: from the program's own lists, never spelled here.
const std::string kFirst = mga::policy_names().at(0), kSecond = mga::policy_names().at(1);
const std::string kCrossThread(mga::policy_with(&mga::PolicyTraits::cross_thread_release));
const std::string kMallocA(mga::process_mallocs()[0].name),
    kMallocB(mga::process_mallocs()[1].name);

// Command lines that, together, give every option a value other than its default.
const std::vector<Args> kCommandLines = {
    {},
    {"--engine=tape", "--steps=3", "--seed=-5", "--rng=mulberry32", "--samples=0", "--repeat=2",
     "--quiet", "--json=out.json", "--data=names.txt"},
    {"--allocator=" + kSecond + "," + kFirst, "--topo=creation", "--n-embd=8", "--n-head=2",
     "--n-layer=2", "--block-size=8", "--malloc=" + kMallocB + "," + kMallocA, "--force",
     "--worker-timeout=0.25"},
    {"--allocator=all", "--malloc=all", "--threads=1,2", "--release=all"},
    {"--threads", "2"},
    {"--release", "background", "--allocator", kCrossThread},
    {"--engine=tape-exact", "--threads=4,1", "--release=inline"},
    {"--list-allocators", "--format=json"},
    {"--worker", "--data-hash=123", "--inject-fault=crash", "--allocator=" + kFirst,
     "--malloc=" + kMallocA, "--threads=3", "--release=inline"},
    {"--seed=-100000000000000000000", "--data", "/a dir/x=y/--names.txt", "--worker-timeout",
     "1e3"},
    {"--repeat=auto", "--repeat-target=2.5", "--repeat-budget=90.5", "--malloc=all",
     "--malloc-file=/opt/m/mallocs.txt"},
    {"--repeat", "auto", "--malloc=" + kMallocA + ",mine=/opt/x/libmine.so.2,/opt/y/libother.so"},
};

TEST(Options, ToArgsIsReadBackAsTheSameOptions) {
  for (const Args& line : kCommandLines) {
    SCOPED_TRACE(describe(line));
    const mga::Options options = parse(line);
    const Args written = mga::to_args(options);
    SCOPED_TRACE("written: " + describe(written));
    const mga::Options read = mga::parse_command_line(written).options;
    EXPECT_TRUE(read == options);
    EXPECT_EQ(mga::to_args(read), written);
  }
}

TEST(Options, EveryOptionIsWrittenByALineOfTheTable) {
  std::set<std::string> written;
  for (const Args& line : kCommandLines) {
    for (const auto& arg : mga::to_args(parse(line))) written.insert(arg.substr(0, arg.find('=')));
  }
  for (const auto& name : mga::option_names()) {
    EXPECT_TRUE(written.count(name)) << name << ": no line of kCommandLines has to_args write it";
  }
  EXPECT_GT(mga::option_names().size(), 20U);
}

TEST(Options, DefaultsWriteNothingAndEqualityComparesValues) {
  EXPECT_EQ(mga::to_args(mga::Options{}), Args{"bench_train"});
  EXPECT_TRUE(parse({}) == mga::Options{});
  EXPECT_FALSE(parse({"--seed=43"}) == mga::Options{});
  EXPECT_FALSE(parse({"--threads=1"}) == mga::Options{}) << "the thread axis is on";
  EXPECT_FALSE(parse({"--allocator=" + kFirst + "," + kSecond}) ==
               parse({"--allocator=" + kSecond + "," + kFirst}));
}

TEST(Options, ListsKeepTheirOrderAndAllSpellsOutEveryName) {
  const mga::Options o = parse(kCommandLines[2]);
  EXPECT_EQ(o.allocators.names, (Args{kSecond, kFirst}));
  EXPECT_FALSE(o.allocators.all);
  EXPECT_EQ(o.mallocs.names, (Args{kMallocB, kMallocA}));
  const mga::Options all = parse(kCommandLines[3]);
  EXPECT_EQ(all.allocators.names, mga::policy_names());
  EXPECT_TRUE(all.allocators.all);
  EXPECT_EQ(all.mallocs.names.size(), mga::process_mallocs().size());
  EXPECT_EQ(all.threads, (std::vector<int>{1, 2}));
  EXPECT_EQ(all.releases.size(), 2U);
}

TEST(Options, AWorkersCommandLineRunsExactlyItsCell) {
  const mga::Dataset data = mga::parse_dataset("ab\ncd\n");
  for (const Args& line : kCommandLines) {
    mga::Options o = parse(line);
    if (o.list_allocators || o.worker) continue;
    // --malloc registered, as bench_train does (its file is not read here).
    o.mallocs.names = mga::register_mallocs(o.mallocs, "");
    for (const mga::Cell& cell : mga::plan_cells(o).cells) {
      SCOPED_TRACE(describe(line) + ": cell " + cell.allocator + " under '" + cell.malloc + "'");
      const mga::Options worker = mga::worker_options(o, cell, "/data/names.txt", data, "");
      mga::Options read = mga::parse_command_line(mga::to_args(worker)).options;
      EXPECT_TRUE(read == worker);
      EXPECT_TRUE(read.worker);
      EXPECT_EQ(read.data_hash, std::to_string(data.content_hash));
      EXPECT_EQ(read.run.seed.decimal(), o.run.seed.decimal());
      EXPECT_EQ(read.run.steps, o.run.steps);
      EXPECT_FALSE(read.repeat_auto);
      read.mallocs.names = mga::register_mallocs(read.mallocs, "");
      EXPECT_EQ(mga::plan_cells(read).cells, std::vector<mga::Cell>{cell});
    }
  }
}

TEST(Options, ListsRefuseUnknownRepeatedAndEmptyNames) {
  const std::vector<std::string> valid = {"x", "y"};
  std::string why;
  EXPECT_EQ(mga::parse_name_list("y,x", valid, "thing", &why)->names, (Args{"y", "x"}));
  for (const auto& [text, reason] : std::vector<std::pair<std::string, std::string>>{
           {"x,x", "x is given twice; valid: all, x, y"},
           {"x,z", "unknown thing 'z'; valid: all, x, y"},
           {"", "unknown thing ''; valid: all, x, y"},
           {"x,", "unknown thing ''; valid: all, x, y"},
           {",x", "unknown thing ''; valid: all, x, y"},
           {"x,all", "'all' stands alone, not in a list; valid: all, x, y"},
           {"X", "unknown thing 'X'; valid: all, x, y"}}) {
    EXPECT_FALSE(mga::parse_name_list(text, valid, "thing", &why).has_value()) << text;
    EXPECT_EQ(why, reason) << text;
  }
}

// That `args` are refused with a one-line UsageError holding `needle`.
void refused(const Args& args, const std::string& needle) {
  try {
    parse(args);
    ADD_FAILURE() << describe(args) << " was accepted";
  } catch (const mga::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

// --malloc items: built-ins, NAME=PATH and paths (made absolute), names a
// --malloc-file may hold; refused in one line, naming what is valid.
TEST(Options, MallocListsTakeLibrariesAndTheFilesNames) {
  const std::string cwd = std::filesystem::current_path().string();
  EXPECT_EQ(parse({"--malloc=" + kMallocB + ",a=lib/liba.so,./libb.so.1"}).mallocs.names,
            (Args{kMallocB, "a=" + cwd + "/lib/liba.so", "b=" + cwd + "/libb.so.1"}));
  EXPECT_EQ(parse({"--malloc=" + kMallocA + ",fromfile", "--malloc-file=f.txt"}).mallocs.names,
            (Args{kMallocA, "fromfile"}))
      << "a name the file may hold waits for the file";
  refused({"--malloc=" + kMallocA + ",fromfile"}, "unknown process allocator 'fromfile'; valid: ");
  refused({"--malloc=a=/x/liba.so,a=/y/liba.so"}, "--malloc: a is given twice");
  refused({"--malloc=/x/liba.so,a=/y/liba.so"}, "--malloc: a is given twice");
  refused({"--malloc=" + kMallocA + ",all"}, "'all' stands alone");
  refused({"--malloc-file=f.txt"}, "--malloc-file: applies with --malloc");
  refused({"--malloc=" + kMallocA + ",x=/opt/a b.so"}, "white space");
}

// --repeat N or auto; --repeat-target and --repeat-budget only with auto, above 0.
TEST(Options, RepeatAutoAndItsNumbers) {
  const mga::Options o = parse({"--repeat=auto", "--repeat-target=2", "--repeat-budget=1e3"});
  EXPECT_TRUE(o.repeat_auto);
  EXPECT_EQ(o.repeat_target_percent, 2);
  EXPECT_EQ(o.repeat_budget, 1000);
  EXPECT_FALSE(mga::runs_in_this_process(parse({"--repeat=auto"})));
  const mga::Options defaults = parse({"--repeat=auto"});
  EXPECT_EQ(defaults.repeat_target_percent, 5);
  EXPECT_EQ(defaults.repeat_budget, 600);
  for (const auto& [args, needle] : std::vector<std::pair<Args, std::string>>{
           {{"--repeat=automatic"}, "--repeat: not an integer: 'automatic' (or 'auto')"},
           {{"--repeat=0"}, "--repeat: 0 is not in range 1 to 10000"},
           {{"--repeat-target=5"}, "--repeat-target: applies to --repeat auto only"},
           {{"--repeat=3", "--repeat-budget=5"}, "--repeat-budget: applies to --repeat auto only"},
           {{"--repeat=auto", "--repeat-target=0"}, "--repeat-target: not a number above 0 to 100"},
           {{"--repeat=auto", "--repeat-target=101"}, "not a number above 0 to 100: '101'"},
           {{"--repeat=auto", "--repeat-target=5%"}, "not a number above 0 to 100: '5%'"},
           {{"--repeat=auto", "--repeat-budget=0"}, "--repeat-budget: not a number above 0"},
           {{"--repeat=auto", "--repeat-budget=nan"}, "--repeat-budget: not a number above 0"},
           {{"--repeat=auto", "--repeat-budget=-3"}, "--repeat-budget: not a number above 0"}}) {
    refused(args, needle);
  }
}

}  // namespace
