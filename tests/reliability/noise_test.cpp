// Noise (issue 23 item 5, bench/noise.hpp): the flag rules on made-up
// readings, the /proc and /sys readers on made-up files (missing, odd,
// truncated), the JSON object and the worker's words, the sleep fault, the
// probe of training loops, and end to end: a sleeping worker flagged in the
// JSON and the table, and the summary's noise line.
#include "bench/noise.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/record.hpp"
#include "tests/reliability/bench_cli.hpp"
#include "tests/reliability/json_values.hpp"
#include "tests/reliability/subprocess.hpp"

namespace {

using mga::CpuJiffies;
using mga::Noise;
using namespace mga::test;
using Strings = std::vector<std::string>;
namespace fs = std::filesystem;

// A made-up root with `files` (relative path -> content).
void write_files(const TempDir& root,
                 const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [relative, content] : files) {
    fs::create_directories((root.path() / relative).parent_path());
    root.write(relative, content);
  }
}

const std::string kStat = "cpu  100 5 50 800 10 3 2 30 7 0\ncpu0 50 2 25 400 5 1 1 15 3 0\n";

TEST(NoiseFlags, NoneForAQuietRun) {
  EXPECT_EQ(mga::noise_flags(1.0, 0.0, 1.0, 2), Strings{});
  EXPECT_EQ(mga::noise_flags(0.98, std::nullopt, std::nullopt, 2), Strings{});
  // On the thresholds: not yet noise.
  EXPECT_EQ(mga::noise_flags(0.90, 0.05, 2.5, 2), Strings{});
}

TEST(NoiseFlags, OneSentenceEach) {
  EXPECT_EQ(mga::noise_flags(0.71, std::nullopt, std::nullopt, 2),
            Strings{"the process ran 71% of its wall time: another process or the hypervisor "
                    "held the CPU"});
  EXPECT_EQ(mga::noise_flags(1.0, 0.12, std::nullopt, 2),
            Strings{"the hypervisor stole 12% of the CPU time during the run"});
  EXPECT_EQ(mga::noise_flags(1.0, std::nullopt, 3.9, 2),
            Strings{"the machine was busy: load average 3.9 on 2 cores"});
  EXPECT_EQ(mga::noise_flags(1.0, std::nullopt, 1.6, 1),
            Strings{"the machine was busy: load average 1.6 on 1 core"});
  EXPECT_EQ(mga::noise_flags(0.5, 0.2, 9.0, 4).size(), 3U);
  EXPECT_EQ(mga::noise_flags(0.899, 0.051, 2.51, 2).size(), 3U) << "just past each threshold";
}

// A run whose threads can wait for each other (a background releaser, replicas)
// may be held by its own lock: the sentence says so, and a worker's record
// gets those words from its own threads and release.
TEST(NoiseFlags, ThreadsThatWaitAreNamedAsACause) {
  EXPECT_EQ(mga::noise_flags(0.72, std::nullopt, std::nullopt, 2, true),
            Strings{"the process ran 72% of its wall time: another process or the hypervisor "
                    "held the CPU, or its threads waited for each other (a lock)"});
  for (const bool background : {false, true}) {
    mga::Measurement m;
    m.allocator = "x";
    m.steps = 1;
    m.noise.cpu_fraction = 0.72;
    m.release = background ? mga::ReleaseMode::background : mga::ReleaseMode::inline_release;
    const auto parsed = mga::parse_record(mga::to_record(m));
    ASSERT_TRUE(parsed.has_value());
    ASSERT_EQ(parsed->noise.flags.size(), 1U);
    EXPECT_EQ(parsed->noise.flags[0].find("waited for each other") != std::string::npos, background)
        << parsed->noise.flags[0];
  }
}

TEST(NoiseReaders, StealFractionIsADelta) {
  const CpuJiffies start{30, 1000}, end{40, 1100};
  EXPECT_DOUBLE_EQ(*mga::steal_fraction(start, end), 0.1);
  EXPECT_FALSE(mga::steal_fraction(std::nullopt, end));
  EXPECT_FALSE(mga::steal_fraction(start, std::nullopt));
  EXPECT_FALSE(mga::steal_fraction(start, start)) << "no jiffy passed";
  EXPECT_FALSE(mga::steal_fraction(end, start)) << "counters went backwards";
}

TEST(NoiseReaders, ProcStatAggregateLine) {
  TempDir root;
  write_files(root, {{"proc/stat", kStat}});
  const auto jiffies = mga::read_cpu_jiffies(root.path());
  ASSERT_TRUE(jiffies);
  EXPECT_EQ(jiffies->steal, 30U);
  EXPECT_EQ(jiffies->total, 1000U) << "guest and guest_nice are in user and nice already";
  EXPECT_TRUE(mga::read_cpu_jiffies()) << "this machine's /proc/stat";
}

TEST(NoiseReaders, OddProcStatIsNull) {
  EXPECT_FALSE(mga::read_cpu_jiffies("/nonexistent-root"));
  for (const std::string odd : {"", "\n", "intr 1 2 3 4 5 6 7 8\n", "cpu 1 2 3 4 5 6 7\n",
                                "cpu 1 2 3 x 5 6 7 8\n", "cpu0 1 2 3 4 5 6 7 8\n"}) {
    TempDir root;
    write_files(root, {{"proc/stat", odd}});
    EXPECT_FALSE(mga::read_cpu_jiffies(root.path())) << "'" << odd << "'";
  }
}

TEST(NoiseReaders, LoadAverage) {
  TempDir root;
  write_files(root, {{"proc/loadavg", "3.91 2.50 1.20 3/456 7890\n"}});
  EXPECT_DOUBLE_EQ(*mga::read_load_average(root.path()), 3.91);
  EXPECT_FALSE(mga::read_load_average("/nonexistent-root"));
  for (const std::string odd : {"", "abc 1 2", "-1 0 0", "nan 1 1", "inf 1 1"}) {
    TempDir bad;
    write_files(bad, {{"proc/loadavg", odd}});
    EXPECT_FALSE(mga::read_load_average(bad.path())) << "'" << odd << "'";
  }
}

TEST(NoiseReaders, MachineState) {
  using State = std::vector<std::pair<std::string, std::string>>;
  TempDir full;
  write_files(full, {{"proc/sys/kernel/randomize_va_space", "2\n"},
                     {"sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance\n"},
                     {"sys/devices/system/cpu/cpufreq/boost", "0\n"},
                     {"proc/loadavg", "0.52 0.58 0.59 1/123 4567\n"}});
  EXPECT_EQ(mga::machine_state(full.path()), (State{{"aslr", "2"},
                                                    {"cpu_governor", "performance"},
                                                    {"cpu_boost", "0"},
                                                    {"load_average_start", "0.52"}}));
  EXPECT_EQ(mga::machine_state("/nonexistent-root"), (State{{"aslr", "unreadable"},
                                                            {"cpu_governor", "unavailable"},
                                                            {"cpu_boost", "unavailable"},
                                                            {"load_average_start", "unreadable"}}));
  TempDir intel;  // no cpufreq/boost: intel_pstate's no_turbo, inverted; odd values refused
  write_files(intel, {{"proc/sys/kernel/randomize_va_space", "7\n"},
                      {"sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "a b\n"},
                      {"sys/devices/system/cpu/intel_pstate/no_turbo", "1\n"},
                      {"proc/loadavg", "busy\n"}});
  EXPECT_EQ(mga::machine_state(intel.path()), (State{{"aslr", "unreadable"},
                                                     {"cpu_governor", "unavailable"},
                                                     {"cpu_boost", "0"},
                                                     {"load_average_start", "unreadable"}}));
}

// The probe over a region: steal from the made-up /proc/stat's delta, the
// load at the end, and a region spent asleep is held off the CPU.
TEST(NoiseProbe, ReadsTheRegion) {
  TempDir root;
  write_files(root, {{"proc/stat", kStat}, {"proc/loadavg", "0.10 0 0 1/1 1\n"}});
  const mga::NoiseProbe probe(root.path());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  write_files(root, {{"proc/stat", "cpu  150 5 50 830 10 3 2 50 7 0\n"},
                     {"proc/loadavg", "7.50 0 0 1/1 1\n"}});
  const Noise noise = probe.stop(1, 2);
  EXPECT_DOUBLE_EQ(*noise.steal_fraction, 0.2);
  EXPECT_DOUBLE_EQ(*noise.load_average, 7.5);
  EXPECT_GE(noise.cpu_seconds, 0);
  EXPECT_LT(noise.cpu_fraction, 0.5) << "asleep, it used (almost) no CPU";
  ASSERT_EQ(noise.flags.size(), 3U);
  EXPECT_EQ(noise.flags[2], "the machine was busy: load average 7.5 on 2 cores");

  const Noise unreadable = mga::NoiseProbe("/nonexistent-root").stop(1, 2);
  EXPECT_FALSE(unreadable.steal_fraction);
  EXPECT_FALSE(unreadable.load_average);
}

TEST(NoiseJson, ObjectAndWords) {
  Noise noise{.cpu_seconds = 1.5,
              .cpu_fraction = 0.75,
              .steal_fraction = 0.125,
              .load_average = std::nullopt,
              .flags = {"a \"quoted\" flag"}};
  EXPECT_EQ(mga::noise_json(noise),
            "{\"cpu_seconds\": 1.5, \"cpu_fraction\": 0.75, \"steal_fraction\": 0.125, "
            "\"load_average\": null, \"flags\": [\"a \\\"quoted\\\" flag\"]}");
  EXPECT_EQ(mga::noise_json(Noise{}),
            "{\"cpu_seconds\": 0, \"cpu_fraction\": 0, \"steal_fraction\": null, "
            "\"load_average\": null, \"flags\": []}");

  EXPECT_EQ(mga::noise_words(noise), "1.5 0.75 0.125 -");
  const auto back = mga::parse_noise_words(mga::noise_words(noise), 2);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->cpu_seconds, 1.5);
  EXPECT_EQ(back->steal_fraction, 0.125);
  EXPECT_FALSE(back->load_average);
  EXPECT_EQ(back->flags, mga::noise_flags(0.75, 0.125, std::nullopt, 2)) << "flags recomputed";
  for (const std::string bad :
       {"", "1 2 3", "1 2 3 4 5", "x 1 - -", "1 -1 - -", "1 1 nan -", "- 1 - -", "1 1 0.1x -"})
    EXPECT_FALSE(mga::parse_noise_words(bad, 2)) << "'" << bad << "'";
}

TEST(NoiseFault, SleepAfterEachStepAsLongAsTheStepTook) {
  using Clock = std::chrono::steady_clock;
  Strings printed;
  const mga::LineSink print = [&](const std::string& line) { printed.push_back(line); };
  const mga::LineSink unchanged = mga::with_noise_fault("crash", print);
  unchanged("step    1 /    1 | loss 3.0000");
  EXPECT_EQ(printed, Strings{"step    1 /    1 | loss 3.0000"});

  printed.clear();
  const mga::LineSink sleepy = mga::with_noise_fault(mga::kSleepFault, print);
  sleepy("num params: 1");
  const auto step_start = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the "step"
  const auto step_end = Clock::now();
  sleepy("step    1 /    1 | loss 3.0000");
  EXPECT_GE(Clock::now() - step_end, step_end - step_start) << "slept at least as long";
  EXPECT_EQ(printed, (Strings{"num params: 1", "step    1 /    1 | loss 3.0000"}));
}

// The probe of training loops: from the first loop's "num params" line to the
// last loop's blank line, whatever the threads print in between.
TEST(LoopNoise, FromTheFirstLoopStartingToTheLastEnding) {
  Strings printed;
  std::mutex printed_mutex;
  mga::LoopNoise loops(2);
  EXPECT_THROW(loops.noise(), std::logic_error) << "no loop ran yet";
  const mga::LineSink print = [&](const std::string& line) {
    std::lock_guard lock(printed_mutex);
    printed.push_back(line);
  };
  auto replica = [&] {
    const mga::LineSink watched = loops.watch(print);
    watched("num docs: 2");
    watched("num params: 10");
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // held off the CPU
    watched("step    1 /    1 | loss 3.0000");
    watched("");
    watched("--- inference (new, hallucinated names) ---");
  };
  std::thread other(replica);
  replica();
  other.join();
  EXPECT_EQ(printed.size(), 10U) << "every line printed";
  const Noise noise = loops.noise();
  EXPECT_LT(noise.cpu_fraction, 0.5) << "two sleeping loops used (almost) no CPU";
  ASSERT_FALSE(noise.flags.empty());
  EXPECT_EQ(noise.flags[0].rfind("the process ran ", 0), 0U) << noise.flags[0];
}

// End to end (issue 23, item e): a worker made to sleep half its loop
// (MGA_WORKER_FAULT=sleep@1) is flagged in the JSON and in the table; every
// repetition has its noise object; the context says how the machine was set
// up. The other repetitions' flags are not asserted: a busy machine flags them.
TEST(NoiseRuns, ASleepingRepetitionIsFlaggedInTheJsonAndTheTable) {
  TempDir dir;
  const std::string data = dir.write("names.txt", kNames), json = dir / "out.json";
  const std::string policies = mga::policy_names().at(0) + "," + mga::policy_names().at(1);
  const auto r = bench(
      small_run(data, {"--allocator=" + policies, "--repeat", "2", "--quiet", "--json", json}),
      {.timeout_seconds = 120, .environment = {"MGA_WORKER_FAULT=sleep@1"}});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const std::string written = slurp(json);
  const auto noise = json_values(written, "noise");
  ASSERT_EQ(noise.size(), 4U) << "2 cells x 2 repetitions";
  EXPECT_NE(noise[0].find("\"flags\": [\"the process ran "), std::string::npos) << noise[0];
  for (const std::string& object : noise) {
    for (const char* key : {"cpu_seconds", "cpu_fraction", "steal_fraction", "load_average"})
      EXPECT_EQ(json_values(object, key).size(), 1U) << key << " in " << object;
    EXPECT_EQ(json_values(object, "flags").at(0).front(), '[') << object;
  }
  const auto noisy = json_values(written, "noisy_repetitions");
  ASSERT_EQ(noisy.size(), 2U);
  EXPECT_GE(std::stoi(noisy[0]), 1);
  for (const char* key : {"aslr", "cpu_governor", "cpu_boost", "load_average_start"})
    EXPECT_EQ(json_values(written, key).size(), 1U) << "context." << key;
  // The table: a noisy column, and the flag under it with the cell and round it hit.
  EXPECT_NE(r.out.find(" noisy\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the process ran "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": " + mga::policy_names().at(0) + " (round 1)"), std::string::npos)
      << r.out;
}

// A single run in this process says its noise in the summary.
TEST(NoiseRuns, TheSummaryHasANoiseLine) {
  TempDir dir;
  const auto r = bench(small_run(dir.write("names.txt", kNames), {"--quiet"}));
  expect_success(r);
  EXPECT_NE(r.out.find("\nnoise         "), std::string::npos) << r.out;
}

// --help states the thresholds from the constants the flags use, and how to quiet a machine.
TEST(NoiseRuns, HelpStatesTheThresholdsAndHowToQuietAMachine) {
  const auto r = bench({"--help"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  char cpu[64];
  std::snprintf(cpu, sizeof cpu, "less than %g%% of the loop's wall time",
                100 * mga::kMinCpuFraction);
  EXPECT_NE(r.out.find(cpu), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("A quiet machine:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("docs/method.md#a-quiet-machine"), std::string::npos) << r.out;
}

}  // namespace
