#include "bench/noise.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bench/json.hpp"

namespace mga {

namespace fs = std::filesystem;

namespace {

// The first line of the file at root/relative, without its newline; null if unreadable.
std::optional<std::string> first_line(const fs::path& root, const char* relative) {
  std::ifstream in(root / relative);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  return line;
}

// The first white-space separated field of `text` as a number, if it is a
// finite, non-negative one.
std::optional<double> first_number(const std::string& text) {
  std::istringstream in(text);
  double value = 0;
  if (!(in >> value) || !std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string optional_number(const std::optional<double>& value) {
  return value ? json_number(*value) : "null";
}

std::string percent(double fraction) {
  return std::to_string(std::lround(100 * fraction)) + "%";
}

}  // namespace

std::optional<CpuJiffies> read_cpu_jiffies(const fs::path& root) {
  const auto line = first_line(root, "proc/stat");
  if (!line) return std::nullopt;
  std::istringstream fields(*line);
  std::string label;
  fields >> label;
  if (label != "cpu") return std::nullopt;
  // user nice system idle iowait irq softirq steal (guest and guest_nice are
  // already counted in user and nice).
  unsigned long long value[8];
  for (auto& v : value)
    if (!(fields >> v)) return std::nullopt;
  CpuJiffies jiffies;
  for (const auto v : value) jiffies.total += v;
  jiffies.steal = value[7];
  return jiffies;
}

std::optional<double> read_load_average(const fs::path& root) {
  const auto line = first_line(root, "proc/loadavg");
  return line ? first_number(*line) : std::nullopt;
}

std::optional<double> steal_fraction(const std::optional<CpuJiffies>& start,
                                     const std::optional<CpuJiffies>& end) {
  if (!start || !end || end->total <= start->total || end->steal < start->steal)
    return std::nullopt;
  return double(end->steal - start->steal) / double(end->total - start->total);
}

std::vector<std::string> noise_flags(double cpu_fraction, std::optional<double> steal,
                                     std::optional<double> load, int cores, bool threads_wait) {
  std::vector<std::string> flags;
  if (cpu_fraction < kMinCpuFraction) {
    flags.push_back("the process ran " + percent(cpu_fraction) +
                    " of its wall time: another process or the hypervisor held the CPU" +
                    (threads_wait ? ", or its threads waited for each other (a lock)" : ""));
  }
  if (steal && *steal > kMaxStealFraction) {
    flags.push_back("the hypervisor stole " + percent(*steal) + " of the CPU time during the run");
  }
  if (load && *load > cores + kLoadMargin) {
    char average[32];
    std::snprintf(average, sizeof average, "%.1f", *load);
    flags.push_back("the machine was busy: load average " + std::string(average) + " on " +
                    std::to_string(cores) + (cores == 1 ? " core" : " cores"));
  }
  return flags;
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return double(t.tv_sec) + 1e-6 * double(t.tv_usec); };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int NoiseProbe::online_cores() {
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores > 0 ? int(cores) : 1;
}

NoiseProbe::NoiseProbe(fs::path root)
    : root_(std::move(root)),
      cpu_start_(process_cpu_seconds()),
      wall_start_(steady_seconds()),
      jiffies_start_(read_cpu_jiffies(root_)) {}

Noise NoiseProbe::stop(int threads, int cores) const {
  Noise noise;
  const double wall = steady_seconds() - wall_start_;
  noise.cpu_seconds = process_cpu_seconds() - cpu_start_;
  noise.cpu_fraction = wall > 0 && threads > 0 ? noise.cpu_seconds / (wall * threads) : 1.0;
  noise.steal_fraction = steal_fraction(jiffies_start_, read_cpu_jiffies(root_));
  noise.load_average = read_load_average(root_);
  noise.flags = noise_flags(noise.cpu_fraction, noise.steal_fraction, noise.load_average, cores);
  return noise;
}

LoopNoise::LoopNoise(int loops) : loops_(loops) {}

LineSink LoopNoise::watch(LineSink print) {
  return [this, print = std::move(print)](const std::string& line) {
    print(line);
    if (line.empty() || line.rfind("num params: ", 0) == 0) saw(line);
  };
}

void LoopNoise::saw(const std::string& line) {
  std::lock_guard lock(mutex_);
  if (!line.empty() && started_++ == 0) probe_.emplace();
  if (line.empty() && probe_ && ++ended_ == loops_) noise_ = probe_->stop(loops_);
}

Noise LoopNoise::noise() const {
  if (!noise_) throw std::logic_error("the training loops have not ended");
  return *noise_;
}

std::string noise_json(const Noise& noise) {
  std::string flags;
  for (const auto& flag : noise.flags) flags += (flags.empty() ? "" : ", ") + json_string(flag);
  return "{\"cpu_seconds\": " + json_number(noise.cpu_seconds) +
         ", \"cpu_fraction\": " + json_number(noise.cpu_fraction) +
         ", \"steal_fraction\": " + optional_number(noise.steal_fraction) +
         ", \"load_average\": " + optional_number(noise.load_average) + ", \"flags\": [" + flags +
         "]}";
}

std::string noise_words(const Noise& noise) {
  const auto word = [](const std::optional<double>& value) {
    return value ? json_number(*value) : std::string("-");
  };
  return json_number(noise.cpu_seconds) + " " + json_number(noise.cpu_fraction) + " " +
         word(noise.steal_fraction) + " " + word(noise.load_average);
}

std::optional<Noise> parse_noise_words(const std::string& words, int cores) {
  std::istringstream in(words);
  std::string text[4], extra;
  for (auto& t : text)
    if (!(in >> t)) return std::nullopt;
  if (in >> extra) return std::nullopt;
  const auto number = [](const std::string& t) -> std::optional<double> {
    std::size_t used = 0;
    try {
      const double value = std::stod(t, &used);
      if (used == t.size() && std::isfinite(value) && value >= 0) return value;
    } catch (const std::exception&) {
    }
    return std::nullopt;
  };
  Noise noise;
  const auto cpu_seconds = number(text[0]), cpu_fraction = number(text[1]);
  if (!cpu_seconds || !cpu_fraction) return std::nullopt;
  noise.cpu_seconds = *cpu_seconds;
  noise.cpu_fraction = *cpu_fraction;
  for (int i : {2, 3}) {
    auto& field = i == 2 ? noise.steal_fraction : noise.load_average;
    if (text[i] == "-") continue;
    field = number(text[i]);
    if (!field) return std::nullopt;
  }
  noise.flags = noise_flags(noise.cpu_fraction, noise.steal_fraction, noise.load_average, cores);
  return noise;
}

std::vector<std::pair<std::string, std::string>> machine_state(const fs::path& root) {
  const auto read = [&](const char* relative, const char* otherwise) {
    const auto line = first_line(root, relative);
    return line && !line->empty() ? *line : std::string(otherwise);
  };
  std::string boost = read("sys/devices/system/cpu/cpufreq/boost", "");
  if (boost != "0" && boost != "1") {
    const std::string no_turbo = read("sys/devices/system/cpu/intel_pstate/no_turbo", "");
    boost = no_turbo == "1" ? "0" : no_turbo == "0" ? "1" : "unavailable";
  }
  const auto load = first_line(root, "proc/loadavg");
  std::string load_start = "unreadable";
  if (load && first_number(*load)) load_start = load->substr(0, load->find(' '));
  std::string aslr = read("proc/sys/kernel/randomize_va_space", "unreadable");
  if (aslr != "0" && aslr != "1" && aslr != "2") aslr = "unreadable";
  std::string governor = read("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "");
  const bool word =
      !governor.empty() && governor.size() <= 32 &&
      governor.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos;
  if (!word) governor = "unavailable";
  return {{"aslr", aslr},
          {"cpu_governor", governor},
          {"cpu_boost", boost},
          {"load_average_start", load_start}};
}

LineSink with_noise_fault(const std::string& fault, LineSink print) {
  if (fault != kSleepFault) return print;
  using Clock = std::chrono::steady_clock;
  return [print = std::move(print), last = Clock::now()](const std::string& line) mutable {
    print(line);
    if (line.rfind("step ", 0) == 0) std::this_thread::sleep_for(Clock::now() - last);
    last = Clock::now();
  };
}

}  // namespace mga
