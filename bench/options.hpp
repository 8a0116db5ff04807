// bench_train's options: one Options describes a run. parse_command_line
// reads it from the command line; to_args writes it back as one, the only
// writer of a command line: a worker process's (bench/runner.cpp) and the
// restart under --malloc are to_args of their Options.
//
// A new option: a field of Options, its CLI11 definition and check in
// options.cpp's define_options (and validate, for a rule across options), the
// field in operator== and its spelling in to_args (bench/to_args.cpp), and a
// command line using it in the table of tests/reliability/options_test.cpp,
// which fails for an option that no line of the table makes to_args write.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/option_lists.hpp"
#include "bench/repeat.hpp"
#include "bench/replicas.hpp"
#include "core/engine.hpp"
#include "core/train.hpp"

namespace mga {

// Input refused before any training: one line, exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ListFormat { text, json };
inline constexpr EnumName<ListFormat> kListFormatNames[] = {
    {ListFormat::text, "text", "one policy per line"},
    {ListFormat::json, "json", "policies with their traits, and the process allocators"},
};
constexpr std::span<const EnumName<ListFormat>> enum_names(ListFormat) {
  return kListFormatNames;
}

struct Options {
  Engine engine = Engine::graph;
  NameList allocators{{std::string(policy_with(Role::baseline))}};  // the graph engine's
  // None: the process allocator this process was started with. Items as
  // bench/malloc_list.hpp writes them (NAME=PATH for a user allocator).
  NameList mallocs;
  std::string malloc_file;   // "": none (--malloc-file)
  RunConfig run;             // --steps, --seed, --rng, --topo, the model's shape, --samples
  std::string data;          // "": the location rule of core/dataset.hpp
  std::string json;          // "": no JSON file
  int repeat = 1;            // rounds, unless repeat_auto
  bool repeat_auto = false;  // --repeat auto (bench/repeat.hpp)
  double repeat_target_percent = kDefaultRepeatTargetPercent;  // the interval's half-width
  double repeat_budget = kDefaultRepeatBudget;                 // seconds
  bool quiet = false;
  bool force = false;            // run even if the memory estimate exceeds the machine's
  double worker_timeout = 3600;  // seconds per worker process, 0 for none
  // The thread axis (bench/replicas.hpp): on when --threads or --release is given.
  bool thread_axis = false;
  std::vector<int> threads = {1};
  std::vector<ReleaseMode> releases = {ReleaseMode::inline_release};
  bool list_allocators = false;
  ListFormat list_format = ListFormat::text;
  // Internal: a worker process (bench/runner.cpp) runs one cell and prints its record.
  bool worker = false;
  std::string data_hash;     // the parent's Dataset::content_hash, decimal
  std::string inject_fault;  // see MGA_WORKER_FAULT in bench/worker.hpp
};

// Every field equal (the seed as its decimal).
bool operator==(const Options& a, const Options& b);

struct CommandLine {
  Options options;
  std::string help;  // not empty: --help was given; print it and exit 0
};

// Reads args (args[0] is the program's name). Throws UsageError with the
// one-line reason for a line that is refused.
CommandLine parse_command_line(const std::vector<std::string>& args);

// A command line that parse_command_line reads as `o`, "bench_train" first:
// the options that differ from Options{}'s, each as "--name=value" (so a
// value never reads as an option), --threads and --release whenever the
// thread axis is on.
std::vector<std::string> to_args(const Options& o);

// The long name of every option parse_command_line takes but --help.
std::vector<std::string> option_names();

}  // namespace mga
