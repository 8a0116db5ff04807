// bench_train: microgpt training, timed for one allocation policy or all.
//
//   bench_train --allocator=arena          microgpt's output, then a summary
//   bench_train --allocator=all --repeat 3  every policy, each run in a fresh
//                                           process, then one comparison table
//   bench_train --engine=tape               fused ops on flat buffers instead of
//                                           the node graph: the no-node ceiling
//                                           (tape-exact: with the graph's bits)
//   bench_train --malloc=all --allocator=all every policy under every process
//                                           allocator (bench/process_malloc.hpp)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/context.hpp"
#include "bench/list_allocators.hpp"
#include "bench/memory_guard.hpp"
#include "bench/output_file.hpp"
#include "bench/process_malloc.hpp"
#include "bench/report.hpp"
#include "bench/worker.hpp"
#include "core/tape_model.hpp"

namespace {

using namespace mga;

struct Options {
  Engine engine = Engine::graph;
  std::string allocator{policy_with(&PolicyTraits::baseline)};
  std::string malloc;  // --malloc: "" = the process allocator this process was started with
  RunConfig run;
  std::string seed = "42";  // any integer, as Python's random.seed
  std::string rng = "python";
  std::string topo{to_string(TopoOrder::dfs)};
  std::string data;
  std::string json;
  int repeat = 1;
  bool quiet = false;
  bool force = false;            // run even if the memory estimate exceeds the machine's
  double worker_timeout = 3600;  // seconds per worker process, 0 for none
  bool worker = false;           // internal: one quiet run that prints a record line
  std::string inject_fault;      // internal: see MGA_WORKER_FAULT in bench/worker.hpp
  char** argv = nullptr;         // to restart under another --malloc
};

constexpr int kUsageError = 2;
constexpr int kRuntimeError = 1;

std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

Fields config_fields(const Options& o, const std::string& data_path, const Dataset& data) {
  const auto& m = o.run.model;
  return {{"engine", json_string(engine_name(o.engine))},
          {"steps", std::to_string(o.run.steps)},
          {"seed", o.run.seed.decimal()},  // a JSON integer of any size, as given
          {"rng", json_string(o.rng)},
          {"topo", json_string(to_string(o.run.topo))},
          {"n_embd", std::to_string(m.n_embd)},
          {"n_head", std::to_string(m.n_head)},
          {"n_layer", std::to_string(m.n_layer)},
          {"block_size", std::to_string(m.block_size)},
          {"samples", std::to_string(o.run.samples)},
          {"malloc", json_string(o.malloc.empty() ? "inherited" : o.malloc)},
          {"data", json_string(data_path)},
          {"num_docs", std::to_string(data.docs.size())},
          {"vocab_size", std::to_string(data.vocab_size())}};
}

Measurement run_in_process(const Options& o, const Dataset& data, bool print_output) {
  std::uint64_t hash = 14695981039346656037ULL;
  LineSink print = [&](const std::string& line) {
    hash = fnv1a(fnv1a(hash, line), "\n");
    if (print_output) {
      std::fputs(line.c_str(), stdout);
      std::fputc('\n', stdout);
    }
  };
  Measurement result;
  if (o.engine != Engine::graph) {
    // Two statements: `hash` is read only after the run has printed everything
    // (in one call, the argument could be copied before the run fills it).
    const RunResult run = run_tape_microgpt(
        data, o.run, print, o.engine == Engine::tape ? TapeMode::fast : TapeMode::exact);
    result = make_measurement(engine_name(o.engine), run, hash);
  } else {
    with_policy(o.allocator, [&]<class P>(std::type_identity<P>) {
      RunResult run = run_microgpt<P>(data, o.run, print);
      result = make_measurement(P::name, run, hash);
    });
  }
  // After the measurement: glibc's check of its fastbins frees a few blocks.
  const ActiveMalloc active = checked_process_malloc(o.malloc);
  result.malloc = active.name;
  result.malloc_library = active.library;
  return result;
}

// Runs this program again as a worker for one policy under one process
// allocator ("" = this process's), the run-th worker of `runs`, and returns
// its record, checked against what was asked.
Measurement run_worker(const Options& o, const std::string& allocator, const std::string& malloc,
                       const std::string& data_path, int run, int runs) {
  const auto& m = o.run.model;
  std::vector<std::string> args = {"bench_train", "--worker"};
  const std::pair<const char*, std::string> options[] = {
      {"--engine", std::string(engine_name(o.engine))},
      {"--steps", std::to_string(o.run.steps)},
      {"--seed", o.run.seed.decimal()},
      {"--rng", o.rng},
      {"--topo", std::string(to_string(o.run.topo))},
      {"--n-embd", std::to_string(m.n_embd)},
      {"--n-head", std::to_string(m.n_head)},
      {"--n-layer", std::to_string(m.n_layer)},
      {"--block-size", std::to_string(m.block_size)},
      {"--samples", std::to_string(o.run.samples)},
      {"--data", data_path}};
  // "--seed=-5", not "--seed" "-5": a value never reads as an option.
  for (const auto& [flag, value] : options) args.push_back(std::string(flag) + "=" + value);
  if (o.engine == Engine::graph) args.push_back("--allocator=" + allocator);
  std::vector<std::string> environment;
  std::string label = allocator;
  if (!malloc.empty()) {
    args.push_back("--malloc=" + malloc);
    environment = process_malloc_environment(*find_process_malloc(malloc));
    label += " under " + malloc;
  }
  const std::string fault = worker_fault_for_run(run);
  if (!fault.empty()) args.insert(args.end(), {"--inject-fault", fault});
  label += " (run " + std::to_string(run) + " of " + std::to_string(runs) + ")";
  const std::string output =
      run_worker_process(label, args, environment, {.timeout_seconds = o.worker_timeout});
  auto record = parse_record(output.substr(0, output.find('\n')));
  if (!record || output.find('\n') + 1 != output.size()) {
    throw WorkerError("worker " + label + " printed no valid record (it printed '" +
                      one_line(output.substr(0, 80)) + "')");
  }
  if (record->allocator != allocator || record->steps != o.run.steps) {
    throw WorkerError("worker " + label + " measured " + record->allocator + " for " +
                      std::to_string(record->steps) + " steps");
  }
  return *record;
}

std::string description_of(const Options& o, const std::string& allocator) {
  if (o.engine != Engine::graph) return std::string(engine_info(o.engine).description);
  std::string description;
  with_policy(allocator, [&]<class P>(std::type_identity<P>) { description = P::description; });
  return description;
}

// Input refused before any training: exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Refuses a run whose estimated memory exceeds the machine's, unless --force.
// The rule is in bench/memory_guard.hpp.
using MemoryRefused = UsageError;
void check_memory(const Options& o, const MemoryEstimate& estimate) {
  const std::string refusal = memory_refusal(estimate, memory_limit());
  if (!refusal.empty() && !o.force) throw MemoryRefused(refusal);
}

void check_model_memory(const Options& o, const Dataset& data, double file_bytes) {
  const auto& model = o.run.model;
  const DataShape shape{file_bytes, double(data.docs.size()), data.vocab_size(),
                        int(std::min<std::size_t>(model.block_size, data.docs.longest() + 1))};
  if (o.engine != Engine::graph) {
    // A tape step past 2^31 - 1 activations (16 GiB) is refused, --force or not.
    if (tape_activations(model, shape.vocab, shape.positions) > 2147483647.0)
      throw MemoryRefused("the tape engine holds at most 2^31 - 1 activations per step");
    return check_memory(o, estimate_tape_run(model, shape, o.engine));
  }
  std::vector<std::pair<std::string, NodeCost>> costs;
  for_each_policy([&]<class P>(std::type_identity<P>) {
    if (o.allocator == "all" || o.allocator == P::name)
      costs.emplace_back(std::string(P::name), node_cost_of<P>());
  });
  check_memory(o, estimate_graph_run(model, shape, o.run.samples > 0, o.run.topo, costs));
}

int run(const Options& o) {
  const std::vector<std::string> allocators =
      o.engine != Engine::graph ? std::vector<std::string>{std::string(engine_name(o.engine))}
      : o.allocator == "all"    ? policy_names()
                                : std::vector<std::string>{o.allocator};
  std::vector<std::string> mallocs = {o.malloc};
  if (o.malloc == "all") {
    mallocs.clear();
    for (const auto& m : process_mallocs()) mallocs.emplace_back(m.name);
  }
  const bool in_process = !o.worker && allocators.size() * mallocs.size() == 1 && o.repeat == 1;
  try {
    for (const auto& name : mallocs)
      if (!name.empty()) preload_path(*find_process_malloc(name));  // installed?
  } catch (const MallocUnavailable& e) {
    throw UsageError(e.what());
  }
  if (in_process && !o.malloc.empty() &&
      !started_with_process_malloc(*find_process_malloc(o.malloc))) {
    std::fflush(stdout);
    restart_with_process_malloc(*find_process_malloc(o.malloc), o.argv);
  }

  const std::string data_path = resolve_dataset(o.data);
  if (o.worker) {  // the parent has checked everything
    const Dataset data = load_dataset(data_path);
    Measurement m = run_in_process(o, data, false);
    emit_worker_record(m, o.inject_fault);
    return 0;
  }
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

  // The cells of the --malloc x --allocator matrix, and the malloc of each.
  std::vector<PolicyRuns> all;
  std::vector<std::string> malloc_of;
  for (const auto& malloc : mallocs) {
    for (const auto& name : allocators) {
      all.push_back({name, description_of(o, name), {}, traits_of(name), !malloc.empty()});
      malloc_of.push_back(malloc);
    }
  }

  if (in_process) {
    all[0].repetitions.push_back(run_in_process(o, data, !o.quiet));
    print_summary(stdout, all[0]);
  } else {
    // Round-robin over the cells, so slow drift of the machine hits all alike.
    const int total = o.repeat * int(all.size());
    const int width = int(std::to_string(total).size());
    int done = 0;
    for (int rep = 0; rep < o.repeat; ++rep) {
      for (std::size_t cell = 0; cell < all.size(); ++cell) {
        auto& runs = all[cell];
        Measurement m = run_worker(o, runs.allocator, malloc_of[cell], data_path, done + 1, total);
        ++done;
        if (!o.quiet) {
          std::fprintf(stderr, "[%*d/%d] %-14s %-16s %.3f s  loss %.4f\n", width, done, total,
                       runs.allocator.c_str(), m.malloc.c_str(), m.train_seconds, m.final_loss);
        }
        runs.repetitions.push_back(m);
      }
    }
    if (all.size() == 1) {
      print_summary(stdout, all[0]);
    } else {
      print_table(stdout, all);
    }
  }

  const Measurement* first = &all[0].repetitions[0];
  const Measurement* differing = nullptr;
  for (const auto& runs : all) {
    for (const auto& m : runs.repetitions) {
      if (m.output_hash != first->output_hash && differing == nullptr) differing = &m;
    }
  }
  if (all.size() > 1 || o.repeat > 1) {
    std::printf("\noutput: %s\n",
                differing == nullptr
                    ? "identical in every run (same losses and samples)"
                    : "DIFFERS between runs: the policies do not compute the same thing");
  }
  if (differing != nullptr) {  // a failed run writes no result
    throw std::runtime_error("the output differs between runs (" + first->allocator +
                             " printed FNV-1a " + std::to_string(first->output_hash) + ", " +
                             differing->allocator + " " + std::to_string(differing->output_hash) +
                             "); no result written");
  }
  // Results that never reached stdout (disk full, closed pipe) are a failure: no JSON either.
  if (std::fflush(stdout) != 0 || std::ferror(stdout))
    throw std::runtime_error("cannot write the results to standard output");
  if (!json.empty()) {
    Fields context;
    for (auto& [k, v] : measurement_context()) context.push_back({k, json_string(v)});
    write_file_atomically(json, to_json(context, config_fields(o, data_path, data), all));
  }
  return 0;
}

}  // namespace

// One line on stderr, whatever the message holds (a path with a newline).
void print_error(const std::string& message) {
  std::fprintf(stderr, "bench_train: %s\n", one_line(message).c_str());
}

int main(int argc, char** argv) {
  open_standard_streams();  // before anything opens a file: see bench/worker.hpp
  Options o;
  CLI::App app{
      "Trains microgpt (Karpathy's scalar-autograd GPT) and measures the allocation policy.",
      "bench_train"};
  app.get_formatter()->column_width(30);
  std::string allocator_list = "'all'";
  for (const auto& name : policy_names()) allocator_list += ", " + name;
  std::string engine(engine_name(Engine::graph));
  std::string engine_help;
  std::vector<std::string> engine_names;
  for (const auto& info : kEngines) {
    engine_help += (engine_help.empty() ? "" : "; ") + std::string(info.name) + ": " +
                   std::string(info.description);
    engine_names.emplace_back(info.name);
  }
  app.add_option("--engine", engine, engine_help)
      ->check(CLI::IsMember(engine_names))
      ->capture_default_str();
  auto* allocator_option =
      app.add_option("--allocator", o.allocator,
                     "policy to measure, or 'all' (each run in a fresh process): " + allocator_list)
          ->check([](const std::string& name) -> std::string {
            if (name == "all") return "";
            for (const auto& valid : policy_names()) {
              if (valid == name) return "";
            }
            std::string message = "unknown allocator '" + name + "'; valid: all";
            for (const auto& valid : policy_names()) message += ", " + valid;
            return message;
          })
          ->capture_default_str();
  app.add_option("--steps", o.run.steps, "training steps")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  app.add_option("--seed", o.seed,
                 "random seed, any integer, as Python's random.seed (-1 is 1); mulberry32 takes "
                 "|seed| < 2^53, as microgpt.ts's `seed | 0`")
      ->check([](const std::string& text) -> std::string {
        return Seed::parse(text) ? "" : "not an integer of at most 4300 digits: '" + text + "'";
      })
      ->type_name("INT")
      ->capture_default_str();
  app.add_option("--rng", o.rng,
                 "python: CPython's MT19937 like microgpt.py; mulberry32: like microgpt.ts")
      ->check(CLI::IsMember({"python", "mulberry32"}))
      ->capture_default_str();
  std::string topo_help = "backward's order:";
  std::vector<std::string> topo_names;
  for (const auto& [order, name, description] : kTopoOrderNames) {
    topo_help += std::string(topo_names.empty() ? " " : ", ") + std::string(name) + " (" +
                 std::string(description) + ")";
    topo_names.emplace_back(name);
  }
  auto* topo_option = app.add_option("--topo", o.topo, topo_help)
                          ->check(CLI::IsMember(topo_names))
                          ->capture_default_str();
  app.add_option("--n-embd", o.run.model.n_embd, "embedding size")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--n-head", o.run.model.n_head, "attention heads (must divide --n-embd)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--n-layer", o.run.model.n_layer, "transformer layers")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--block-size", o.run.model.block_size, "maximum sequence length")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--samples", o.run.samples, "names sampled after training")
      ->check(CLI::Range(0, 1'000'000))
      ->capture_default_str();
  app.add_option("--data", o.data,
                 "names.txt, one name per line (default: ../shared/data/names.txt if it exists, "
                 "else data/names.txt, downloaded if missing)")
      ->check([](const std::string& path) -> std::string {
        return path.empty() ? "the path is empty" : "";  // else "" would mean: download
      });
  app.add_option("--repeat", o.repeat, "repetitions per policy, each in a fresh process")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  std::string malloc_list = "'all'";
  for (const auto& m : process_mallocs()) malloc_list += ", " + std::string(m.name);
  app.add_option("--malloc", o.malloc,
                 "process allocator (malloc and operator new of the whole process, each run in a "
                 "fresh process): " +
                     malloc_list + "; default: the one bench_train was started with")
      ->check([](const std::string& name) -> std::string {
        if (name == "all" || find_process_malloc(name) != nullptr) return "";
        std::string message = "unknown process allocator '" + name + "'; valid: all";
        for (const auto& m : process_mallocs()) message += ", " + std::string(m.name);
        return message;
      });
  app.add_option("--json", o.json,
                 "also write the results as JSON to this file (atomically; never over an input "
                 "or anything but a regular file)")
      ->check([](const std::string& path) -> std::string {
        return path.empty() ? "the path is empty" : "";
      });
  app.add_flag("--force", o.force,
               "run even if the estimated memory exceeds the machine's (the estimate is in the "
               "refusal)");
  app.add_option("--worker-timeout", o.worker_timeout,
                 "seconds a worker process may run before it is killed and the run fails; 0: no "
                 "limit")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  app.add_flag("--quiet", o.quiet, "print only the summary (no microgpt output, no progress)");
  bool list = false;
  app.add_flag("--list-allocators", list, "print the policies, one per line, and exit");
  std::string list_format = "text";
  auto* format_option =
      app.add_option("--format", list_format,
                     "of --list-allocators: text, or json (policies with their traits, and the "
                     "process allocators of --malloc)")
          ->check(CLI::IsMember({"text", "json"}))
          ->capture_default_str();
  app.add_flag("--worker", o.worker)->group("");                // internal, see run_worker
  app.add_option("--inject-fault", o.inject_fault)->group("");  // internal, for tests

  try {
    app.parse(argc, argv);
    o.engine = *engine_named(engine);
    const std::string tape_engine = "the " + engine + " engine";
    if (o.engine != Engine::graph && allocator_option->count() > 0 && !o.worker) {
      throw CLI::ValidationError("--allocator", tape_engine + " has no allocation policy");
    }
    if (o.engine != Engine::graph && topo_option->count() > 0 && !o.worker) {
      throw CLI::ValidationError("--topo", tape_engine + " has no graph to sort");
    }
    o.run.seed = *Seed::parse(o.seed);
    if (o.rng == "mulberry32" && !o.run.seed.javascript_int32()) {
      throw CLI::ValidationError("--seed",
                                 "--rng mulberry32 takes a seed below 2^53 in magnitude "
                                 "(microgpt.ts's numbers hold no larger integer exactly)");
    }
    if (format_option->count() > 0 && !list) {
      throw CLI::ValidationError("--format", "applies to --list-allocators only");
    }
    if (o.run.model.n_embd % o.run.model.n_head != 0) {
      throw CLI::ValidationError("--n-head", "--n-embd (" + std::to_string(o.run.model.n_embd) +
                                                 ") is not divisible by --n-head (" +
                                                 std::to_string(o.run.model.n_head) + ")");
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(e.what());
    return kUsageError;
  }
  if (list) {
    if (list_format == "json") {
      print_allocator_list_json(stdout);
    } else {
      print_allocator_list(stdout);
    }
    return 0;
  }
  o.argv = argv;
  o.run.rng = o.rng == "mulberry32" ? RngKind::mulberry32 : RngKind::python;
  o.run.topo = *parse_topo_order(o.topo);
  try {
    const int status = run(o);
    // Results that never reached stdout (disk full, closed pipe) are a failure.
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      throw std::runtime_error("cannot write the results to standard output");
    return status;
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
