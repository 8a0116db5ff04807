// bench_train: microgpt training, timed for one allocation policy or several.
//
//   bench_train --allocator=arena          microgpt's output, then a summary
//   bench_train --allocator=all --repeat 3  every policy, each run in a fresh
//                                           process, then one comparison table
//                                           (--allocator=a,b: those, in that order)
//   bench_train --engine=tape               fused ops on flat buffers instead of
//                                           the node graph: the no-node ceiling
//                                           (tape-exact: with the graph's bits)
//   bench_train --malloc=all --allocator=all every policy under every process
//                                           allocator (bench/process_malloc.hpp)
//   bench_train --threads 1,2 --release=all  replicas trained at once, their nodes
//                                           freed inline or on a second thread
//                                           (bench/replicas.hpp)
//
// This file: the command line's outcome (bench/options.hpp), the checks
// before any training, the JSON, the exit codes. The cells and how they run:
// bench/cells.hpp, bench/runner.hpp.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/cells.hpp"
#include "bench/context.hpp"
#include "bench/json.hpp"
#include "bench/list_allocators.hpp"
#include "bench/malloc_list.hpp"
#include "bench/memory_guard.hpp"
#include "bench/noise.hpp"
#include "bench/options.hpp"
#include "bench/output_file.hpp"
#include "bench/process_malloc.hpp"
#include "bench/report.hpp"
#include "bench/runner.hpp"
#include "bench/text.hpp"
#include "bench/user_malloc.hpp"
#include "bench/worker.hpp"

namespace {

using namespace mga;

constexpr int kUsageError = 2;
constexpr int kRuntimeError = 1;

// What reached stdout must be all of it (not a full disk, not a closed pipe):
// else the run fails, and writes no JSON.
void check_stdout(const std::string& what) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout))
    throw std::runtime_error("cannot write " + what + " to standard output");
}

std::string json_list(const std::vector<std::string>& items) {
  std::string list = "[";
  for (std::size_t i = 0; i < items.size(); ++i) list += (i ? ", " : "") + items[i];
  return list + "]";
}

// The JSON's "config": what the run was asked to do, and how many rounds it ran.
Fields config_fields(const Options& o, const Plan& plan, const Rounds& rounds,
                     const std::string& data_path, const Dataset& data) {
  const auto& m = o.run.model;
  std::vector<std::string> threads, releases;
  for (int n : o.threads) threads.push_back(std::to_string(n));
  for (ReleaseMode mode : o.releases) releases.push_back(json_string(to_string(mode)));
  Fields config = {
      {"engine", json_string(to_string(o.engine))},
      {"steps", std::to_string(o.run.steps)},
      {"seed", o.run.seed.decimal()},  // a JSON integer of any size, as given
      {"rng", json_string(to_string(o.run.rng))},
      {"topo", json_string(to_string(o.run.topo))},
      {"n_embd", std::to_string(m.n_embd)},
      {"n_head", std::to_string(m.n_head)},
      {"n_layer", std::to_string(m.n_layer)},
      {"block_size", std::to_string(m.block_size)},
      {"samples", std::to_string(o.run.samples)},
      {"malloc", json_string(o.mallocs.names.empty() ? "inherited" : o.mallocs.text())},
      {"thread_axis", o.thread_axis ? "true" : "false"},
      {"threads", json_list(threads)},
      {"release", json_list(releases)},
      {"data", json_string(data_path)},
      {"num_docs", std::to_string(data.docs.size())},
      {"vocab_size", std::to_string(data.vocab_size())},
      {"repeat", std::to_string(rounds.count)},
      {"repeat_mode", json_string(rounds.automatic ? "auto" : "fixed")}};
  if (rounds.automatic) {
    config.insert(config.end(), {{"repeat_target", json_number(o.repeat_target_percent / 100)},
                                 {"repeat_budget_seconds", json_number(o.repeat_budget)},
                                 {"repeat_min", std::to_string(kAutoMinRounds)},
                                 {"repeat_max", std::to_string(kAutoMaxRounds)},
                                 {"repeat_outcome", json_string(rounds.outcome)},
                                 {"repeat_outcome_text", json_string(rounds.text)}});
  }
  if (o.thread_axis) config.push_back({"background_left_out", json_object(plan.left_out)});
  return config;
}

// Refuses a run whose estimated memory exceeds the machine's, unless --force.
// The rule is in bench/memory_guard.hpp.
void check_memory(const Options& o, const MemoryEstimate& estimate) {
  const std::string refusal = memory_refusal(estimate, memory_limit());
  if (!refusal.empty() && !o.force) throw UsageError(refusal);
}

void check_model_memory(const Options& o, const Dataset& data, double file_bytes) {
  const auto& model = o.run.model;
  const RunCopies copies{
      *std::max_element(o.threads.begin(), o.threads.end()),
      std::find(o.releases.begin(), o.releases.end(), ReleaseMode::background) != o.releases.end()};
  const DataShape shape{file_bytes, double(data.docs.size()), data.vocab_size(),
                        int(std::min<std::size_t>(model.block_size, data.docs.longest() + 1))};
  if (o.engine != Engine::graph) {
    // A tape step past 2^31 - 1 activations (16 GiB) is refused, --force or not.
    if (tape_activations(model, shape.vocab, shape.positions) > 2147483647.0)
      throw UsageError("the tape engine holds at most 2^31 - 1 activations per step");
    return check_memory(o, estimate_tape_run(model, shape, o.engine, copies));
  }
  std::vector<std::pair<std::string, NodeCost>> costs;
  for_each_policy([&]<class P>(std::type_identity<P>) {
    const auto& names = o.allocators.names;
    if (std::find(names.begin(), names.end(), P::name) != names.end())
      costs.emplace_back(std::string(P::name), node_cost_of<P>());
  });
  check_memory(o, estimate_graph_run(model, shape, o.run.samples > 0, o.run.topo, costs, copies));
}

// The Options the run goes by: --malloc's allocators registered (a user's
// added to the list of process allocators; 'all' with --malloc-file's), their
// names in o.mallocs. Before any run (not in a worker, which was given checked
// ones), each is verified; and a run here restarts itself under its allocator.
Options register_and_check_mallocs(const Options& o) {
  Options registered = o;
  try {
    registered.mallocs.names = register_mallocs(o.mallocs, o.malloc_file);
    if (!o.worker) verify_mallocs(registered.mallocs.names, o.mallocs);
  } catch (const MallocUnavailable& e) {
    throw UsageError(e.what());
  }
  if (!runs_in_this_process(registered) || registered.mallocs.names.empty()) return registered;
  const ProcessMalloc& malloc = *find_process_malloc(registered.mallocs.names.at(0));
  if (started_with_process_malloc(malloc)) return registered;
  std::fflush(stdout);
  std::vector<std::string> args = to_args(o);  // as given: the restart registers them again
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  restart_with_process_malloc(malloc, argv.data());
}

// The JSON's "context": where and how it was measured; how quiet the machine
// was at the start (`machine`); each preloaded library the run used.
Fields context_fields(const Options& o,
                      const std::vector<std::pair<std::string, std::string>>& machine) {
  Fields context;
  auto add = [&](const std::vector<std::pair<std::string, std::string>>& entries) {
    for (const auto& [key, value] : entries) context.push_back({key, json_string(value)});
  };
  add(measurement_context());
  add(machine);
  for (const std::string& name : o.mallocs.names)
    add(malloc_library_context(*find_process_malloc(name)));
  return context;
}

// A worker: one cell, on the bytes the parent read, and its record on stdout.
void run_as_worker(const Options& o, const std::string& data_path) {
  const Dataset data = load_dataset(data_path);
  // The path is read again: what was renamed over it or written into it
  // since the parent read it would train this worker on other data.
  if (!o.data_hash.empty() && std::to_string(data.content_hash) != o.data_hash) {
    throw DatasetError("the dataset changed during the run: " + data_path +
                       " no longer holds the bytes bench_train read at its start");
  }
  emit_worker_record(run_cell(o, plan_cells(o).cells.at(0), data, false), o.inject_fault);
  check_stdout("the results");
}

void run(const Options& given) {
  const auto machine = machine_state();  // its load average before bench_train's own work
  const Options o = register_and_check_mallocs(given);
  const std::string data_path = resolve_dataset(o.data);
  if (o.worker) return run_as_worker(o, data_path);
  // A bad --json is bad input: refuse it before training. Never the input itself.
  std::string json;
  try {
    if (!o.json.empty()) json = check_output_file(o.json, {data_path, "/proc/self/exe"});
  } catch (const std::runtime_error& e) {
    throw UsageError(e.what());
  }
  const double file_bytes = double(dataset_file_bytes(data_path));
  check_memory(o, estimate_loading(file_bytes));
  const Dataset data = load_dataset(data_path);
  check_model_memory(o, data, file_bytes);

  Plan plan = plan_cells(o);
  Rounds rounds;
  rounds.count = 1;
  if (runs_in_this_process(o)) {
    plan.runs[0].repetitions.push_back(run_cell(o, plan.cells[0], data, !o.quiet));
    print_summary(stdout, plan.runs[0]);
  } else {
    rounds = run_round_robin(o, plan, data_path, data);
  }
  check_outputs_agree(o, plan);
  check_stdout("the results");
  if (json.empty()) return;
  write_file_atomically(json, to_json(context_fields(o, machine),
                                      config_fields(o, plan, rounds, data_path, data), plan.runs));
}

void list_allocators(ListFormat format) {
  if (format == ListFormat::json) {
    print_allocator_list_json(stdout);
  } else {
    print_allocator_list(stdout);
  }
  check_stdout("the list");
}

// One line on stderr, whatever the message holds (a path with a newline).
void print_error(const std::string& message) {
  std::fprintf(stderr, "bench_train: %s\n", one_line(message).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  // A child started to see what a --malloc library does when preloaded (bench/user_malloc.hpp).
  if (const auto status = run_malloc_probe_if_asked(argc, argv)) return *status;
  open_standard_streams();   // before anything opens a file: see bench/worker.hpp
  ignore_file_size_limit();  // a full --json or stdout under ulimit -f is an error, not SIGXFSZ
  try {
    const CommandLine line = parse_command_line({argv, argv + argc});
    if (!line.help.empty()) {
      std::fputs(line.help.c_str(), stdout);
      return 0;
    }
    if (line.options.list_allocators) {
      list_allocators(line.options.list_format);
    } else {
      run(line.options);
    }
    return 0;
  } catch (const DatasetError& e) {
    print_error(e.what());
    return kUsageError;
  } catch (const UsageError& e) {
    print_error(e.what());
    return kUsageError;
  } catch (const std::bad_alloc&) {
    print_error("out of memory");
    return kRuntimeError;
  } catch (const std::exception& e) {
    print_error(e.what());
    return kRuntimeError;
  }
}
