// Noise (issue 23): whether a timed run had the CPU to itself. A NoiseProbe
// is started before a timed region and stopped after it; it reads the CPU time
// this process used (getrusage RUSAGE_SELF: every thread), the time the
// hypervisor stole from the whole machine (/proc/stat's aggregate "cpu" line)
// and the load average at the end (/proc/loadavg), and turns them into the
// JSON's "noise" object with one sentence per problem. machine_state() reads
// what the context records about how quiet the machine was set up to be.
//
// The readers take the root directory they read /proc and /sys under, so the
// tests give them made-up files; a file that is missing or odd gives null or
// "unavailable", never an error.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/train.hpp"  // LineSink

namespace mga {

// The thresholds of the flags (--help and docs/method.md say them too).
inline constexpr double kMinCpuFraction = 0.90;    // below: held off the CPU
inline constexpr double kMaxStealFraction = 0.05;  // above: the hypervisor stole the CPU
inline constexpr double kLoadMargin = 0.5;         // load above cores + this: a busy machine

// /proc/stat's aggregate "cpu" line, in jiffies since boot.
struct CpuJiffies {
  unsigned long long steal = 0;
  unsigned long long total = 0;  // user + nice + system + idle + iowait + irq + softirq + steal
};
// Null if the file or the line is missing, or the line has no steal column.
std::optional<CpuJiffies> read_cpu_jiffies(const std::filesystem::path& root = "/");
// The 1-minute load average (first field of /proc/loadavg), null if unreadable.
std::optional<double> read_load_average(const std::filesystem::path& root = "/");

// The "noise" object of one repetition.
struct Noise {
  double cpu_seconds = 0;                // user + system CPU time of the region, all threads
  double cpu_fraction = 0;               // cpu_seconds / (wall seconds x threads running the loop)
  std::optional<double> steal_fraction;  // stolen / all jiffies over the region
  std::optional<double> load_average;    // 1-minute, at the end
  std::vector<std::string> flags;        // one sentence per problem; empty: none found
};

// The flag sentences for these readings on a machine of `cores` cores
// (thresholds above; the run itself counts 1 in the load average).
// `threads_wait`: the run had threads that can wait for each other (replicas
// sharing a policy's lock, a background releaser), so a low CPU share may be
// its own waiting, not a disturbance, and the sentence says so.
std::vector<std::string> noise_flags(double cpu_fraction, std::optional<double> steal_fraction,
                                     std::optional<double> load_average, int cores,
                                     bool threads_wait = false);

// The part of /proc/stat's delta the hypervisor stole, null if either reading
// is missing or no jiffy passed.
std::optional<double> steal_fraction(const std::optional<CpuJiffies>& start,
                                     const std::optional<CpuJiffies>& end);

// Usage, in the worker, around the training run:
//   NoiseProbe probe;                       // just before the timed region
//   ... train ...
//   const Noise noise = probe.stop(threads); // just after it
// `threads`: how many threads ran the loop (replicas); cpu_fraction divides by
// the probe's own wall time between construction and stop().
class NoiseProbe {
 public:
  explicit NoiseProbe(std::filesystem::path root = "/");
  Noise stop(int threads, int cores = online_cores()) const;
  static int online_cores();

 private:
  std::filesystem::path root_;
  double cpu_start_;
  double wall_start_;
  std::optional<CpuJiffies> jiffies_start_;
};

// The noise of training loops, told by the lines they print: run_training
// (core/train.hpp) prints "num params: N" just before its loop and an empty
// line just after it, as microgpt.py does. The probe starts when the first of
// `loops` loops (replicas trained at once) starts and stops when the last one
// ends, so its region is the training time's (for replicas: from the first
// loop starting to the last one ending), and `loops` the threads running it.
//   LoopNoise loops(1);
//   run_microgpt<P>(data, config, loops.watch(print));
//   const Noise noise = loops.noise();
class LoopNoise {
 public:
  explicit LoopNoise(int loops);
  // `print`, then the watch; may be called from every loop's thread.
  LineSink watch(LineSink print);
  // The readings, once the loops ended; throws std::logic_error before.
  Noise noise() const;

 private:
  void saw(const std::string& line);
  std::mutex mutex_;
  int loops_, started_ = 0, ended_ = 0;
  std::optional<NoiseProbe> probe_;
  std::optional<Noise> noise_;
};

// The user + system CPU seconds this process has used (RUSAGE_SELF).
double process_cpu_seconds();

// The object as JSON: {"cpu_seconds": ..., "cpu_fraction": ..., "steal_fraction": ... | null,
// "load_average": ... | null, "flags": [...]}.
std::string noise_json(const Noise& noise);

// The readings as four words for a worker's one-line record ("-" for null),
// and back; the flags are recomputed from them for `cores` (a worker's flags
// need not travel). parse_noise_words returns null for anything else.
std::string noise_words(const Noise& noise);
std::optional<Noise> parse_noise_words(const std::string& words, int cores);

// The context's readings of the machine's setup, as (key, value):
//   aslr                 /proc/sys/kernel/randomize_va_space ("0", "1", "2"), or "unreadable"
//   cpu_governor         cpu0's cpufreq scaling_governor, or "unavailable" (VMs often have none)
//   cpu_boost            cpufreq/boost ("1" on, "0" off), else intel_pstate/no_turbo
//                        inverted, else "unavailable"
//   load_average_start   /proc/loadavg's first field now, or "unreadable"
std::vector<std::pair<std::string, std::string>> machine_state(
    const std::filesystem::path& root = "/");

// ---- fault injection, for the test of the noise flags ------------------------
//
// The worker fault "sleep" (MGA_WORKER_FAULT=sleep@RUN, bench/worker.hpp)
// makes a worker sleep, not run, for about half of its training loop: after
// each training step's line ("step ...") it sleeps as long as that step took.
// Its cpu_fraction then comes out near 0.5 and it carries the first flag.
inline constexpr const char* kSleepFault = "sleep";

// `print` itself unless `fault` is kSleepFault; then `print` followed by the
// sleep after every step line.
LineSink with_noise_fault(const std::string& fault, LineSink print);

}  // namespace mga
