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
//   bench_train --threads 1,2 --release=all  replicas trained at once, their nodes
//                                           freed inline or on a second thread
//                                           (bench/replicas.hpp)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/background_release.hpp"
#include "bench/context.hpp"
#include "bench/list_allocators.hpp"
#include "bench/memory_guard.hpp"
#include "bench/numbers.hpp"
#include "bench/output_file.hpp"
#include "bench/process_malloc.hpp"
#include "bench/json.hpp"
#include "bench/record.hpp"
#include "bench/report.hpp"
#include "bench/text.hpp"
#include "bench/worker.hpp"
#include "core/tape_model.hpp"

namespace {

using namespace mga;

struct Options {
  Engine engine = Engine::graph;
  std::string allocator{policy_with(Role::baseline)};
  std::string malloc;  // --malloc: "" = the process allocator this process was started with
  RunConfig run;
  std::string seed = "42";  // any integer, as Python's random.seed
  std::string rng{to_string(RngKind::python)};
  std::string topo{to_string(TopoOrder::dfs)};
  std::string data;
  std::string json;
  int repeat = 1;
  bool quiet = false;
  bool force = false;            // run even if the memory estimate exceeds the machine's
  double worker_timeout = 3600;  // seconds per worker process, 0 for none
  bool worker = false;           // internal: one quiet run that prints a record line
  std::string data_hash;         // internal: the parent's Dataset::content_hash, for a worker
  std::string inject_fault;      // internal: see MGA_WORKER_FAULT in bench/worker.hpp
  char** argv = nullptr;         // to restart under another --malloc
  // The thread axis (bench/replicas.hpp): on when --threads or --release is given.
  std::string threads_list = "1";
  std::string release_list{to_string(ReleaseMode::inline_release)};
  std::vector<int> threads = {1};
  std::vector<ReleaseMode> releases = {ReleaseMode::inline_release};
  bool thread_axis = false;
};

constexpr int kUsageError = 2;
constexpr int kRuntimeError = 1;

// Every integer option's check (bench/numbers.hpp's one rule). It also
// rewrites the text as plain decimal, which CLI11 then converts: it would read
// "010" as octal and "0x3" as hexadecimal.
CLI::Validator integer_in(long long min, long long max) {
  return CLI::Validator(
      [min, max](std::string& text) {
        std::string why;
        const std::optional<long long> value = parse_integer(text, min, max, &why);
        if (value) text = std::to_string(*value);
        return value ? std::string() : why;
      },
      "INT in [" + std::to_string(min) + " - " + std::to_string(max) + "]");
}

// --threads: "2" or "1,2,4"; "" if `text` is such a list, else why not.
std::string parse_thread_list(const std::string& text, std::vector<int>* threads = nullptr) {
  std::vector<int> parsed;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    std::string why;
    const auto count = parse_integer(item, 1, kMaxThreads, &why);
    if (!count) return why;
    const int value = int(*count);
    if (std::find(parsed.begin(), parsed.end(), value) != parsed.end())
      return std::to_string(value) + " is given twice";
    parsed.push_back(value);
  }
  if (parsed.empty() || text.back() == ',') return "expected a count or a list such as 1,2,4";
  if (threads != nullptr) *threads = parsed;
  return "";
}

std::string json_list(const std::vector<std::string>& items) {
  std::string list = "[";
  for (std::size_t i = 0; i < items.size(); ++i) list += (i ? ", " : "") + items[i];
  return list + "]";
}

Fields config_fields(const Options& o, const std::string& data_path, const Dataset& data) {
  const auto& m = o.run.model;
  return {{"engine", json_string(to_string(o.engine))},
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
          {"thread_axis", o.thread_axis ? "true" : "false"},
          {"threads", json_list([&] {
             std::vector<std::string> items;
             for (int n : o.threads) items.push_back(std::to_string(n));
             return items;
           }())},
          {"release", json_list([&] {
             std::vector<std::string> items;
             for (ReleaseMode mode : o.releases) items.push_back(json_string(to_string(mode)));
             return items;
           }())},
          {"data", json_string(data_path)},
          {"num_docs", std::to_string(data.docs.size())},
          {"vocab_size", std::to_string(data.vocab_size())}};
}

// How one replica of the thread axis trains.
TrainReplica replica_trainer(const Options& o, const Dataset& data, ReleaseMode release) {
  if (o.engine != Engine::graph) {
    const TapeMode mode = o.engine == Engine::tape ? TapeMode::fast : TapeMode::exact;
    return [&data, mode](const RunConfig& config, const LineSink& print) {
      return run_tape_microgpt(data, config, print, mode);
    };
  }
  if (release == ReleaseMode::background) {
    return [&data, policy = o.allocator](const RunConfig& config, const LineSink& print) {
      return run_microgpt_background(policy, data, config, print);
    };
  }
  TrainReplica train;
  with_policy(o.allocator, [&]<class P>(std::type_identity<P>) {
    train = [&data](const RunConfig& config, const LineSink& print) {
      return run_microgpt<P>(data, config, print);
    };
  });
  return train;
}

Measurement run_in_process(const Options& o, const Dataset& data, bool print_output) {
  OutputHash hash;
  LineSink print = [&](const std::string& line) {
    hash.add_line(line);
    if (print_output) {  // every byte that was hashed, a NUL too
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    }
  };
  Measurement result;
  if (o.thread_axis) {  // a worker's: one thread count, one release mode
    const ReleaseMode release = o.releases.at(0);
    const ReplicaRuns runs =
        run_replicas(o.run, o.threads.at(0), replica_trainer(o, data, release));
    const std::string name =
        o.engine != Engine::graph ? std::string(to_string(o.engine)) : o.allocator;
    result = make_measurement(name, runs, release);
  } else if (o.engine != Engine::graph) {
    // Two statements: `hash` is read only after the run has printed everything
    // (in one call, the argument could be copied before the run fills it).
    const RunResult run = run_tape_microgpt(
        data, o.run, print, o.engine == Engine::tape ? TapeMode::fast : TapeMode::exact);
    result = make_measurement(to_string(o.engine), run, hash.value());
  } else {
    with_policy(o.allocator, [&]<class P>(std::type_identity<P>) {
      RunResult run = run_microgpt<P>(data, o.run, print);
      result = make_measurement(P::name, run, hash.value());
    });
  }
  // After the measurement: glibc's check of its fastbins frees a few blocks.
  const ActiveMalloc active = checked_process_malloc(o.malloc);
  result.malloc = active.name;
  result.malloc_library = active.library;
  return result;
}

// What a worker runs: a cell of the --malloc x --allocator (x --release x
// --threads) matrix.
struct Cell {
  std::string allocator;
  std::string malloc;  // "" = this process's
  int threads = 1;
  ReleaseMode release = ReleaseMode::inline_release;
};

// Runs this program again as a worker for one cell, the run-th worker of
// `runs`, and returns its record, checked against what was asked.
Measurement run_worker(const Options& o, const Cell& cell, const std::string& data_path,
                       const Dataset& data, int run, int runs) {
  const std::string& allocator = cell.allocator;
  const std::string& malloc = cell.malloc;
  const auto& m = o.run.model;
  std::vector<std::string> args = {"bench_train", "--worker"};
  const std::pair<const char*, std::string> options[] = {
      {"--engine", std::string(to_string(o.engine))},
      {"--steps", std::to_string(o.run.steps)},
      {"--seed", o.run.seed.decimal()},
      {"--rng", o.rng},
      {"--topo", std::string(to_string(o.run.topo))},
      {"--n-embd", std::to_string(m.n_embd)},
      {"--n-head", std::to_string(m.n_head)},
      {"--n-layer", std::to_string(m.n_layer)},
      {"--block-size", std::to_string(m.block_size)},
      {"--samples", std::to_string(o.run.samples)},
      {"--data", data_path},
      {"--data-hash", std::to_string(data.content_hash)}};
  // "--seed=-5", not "--seed" "-5": a value never reads as an option.
  for (const auto& [flag, value] : options) args.push_back(std::string(flag) + "=" + value);
  if (o.engine == Engine::graph) args.push_back("--allocator=" + allocator);
  std::string label = allocator;
  if (o.thread_axis) {
    args.push_back("--threads=" + std::to_string(cell.threads));
    args.push_back("--release=" + std::string(to_string(cell.release)));
    label += " x" + std::to_string(cell.threads) + " " + std::string(to_string(cell.release));
  }
  std::vector<std::string> environment;
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
  const std::size_t replicas = o.thread_axis ? std::size_t(cell.threads) : 0;
  if (record->threads != (o.thread_axis ? cell.threads : 1) || record->release != cell.release ||
      record->replicas.size() != replicas) {
    throw WorkerError("worker " + label + " measured " + std::to_string(record->threads) +
                      " thread(s), " + std::string(to_string(record->release)) + " release, " +
                      std::to_string(record->replicas.size()) + " replica(s)");
  }
  return *record;
}

// The output hash of a single-threaded run of each seed of `seeds`, with
// `allocator` (or the tape engine) and the inline release: what each replica
// of the thread axis must print. Run here, in the parent, once per seed:
// every policy prints the same bytes for a seed (the runs are compared too).
std::vector<std::uint64_t> single_thread_hashes(const Options& o, const Dataset& data,
                                                const std::string& allocator,
                                                const std::vector<Seed>& seeds) {
  std::vector<std::uint64_t> hashes;
  for (const Seed& seed : seeds) {
    if (!o.quiet) {
      std::fprintf(stderr, "[check] seed %s: a single-threaded run of %s, for the replicas\n",
                   seed.decimal().c_str(), allocator.c_str());
    }
    Options single = o;
    single.run.seed = seed;
    single.allocator = allocator;
    single.malloc = "";  // this process's own: the output does not depend on it
    single.thread_axis = false;
    hashes.push_back(run_in_process(single, data, false).output_hash);
  }
  return hashes;
}

// Throws (one line, no result written) unless every replica of `m` printed
// what a single-threaded run of its seed printed.
void check_replicas(const Measurement& m, const std::string& label, const std::vector<Seed>& seeds,
                    const std::vector<std::uint64_t>& expected) {
  for (std::size_t i = 0; i < m.replicas.size(); ++i) {
    const ReplicaTime& r = m.replicas[i];
    if (r.seed != seeds.at(i).decimal() || r.output_hash != expected.at(i)) {
      throw std::runtime_error("replica " + std::to_string(i + 1) + " of " + label +
                               " trained with seed " + r.seed + " and printed FNV-1a " +
                               std::to_string(r.output_hash) + ", but a single-threaded run " +
                               "of seed " + seeds.at(i).decimal() + " printed " +
                               std::to_string(expected.at(i)) + "; no result written");
    }
  }
}

std::string description_of(const Options& o, const std::string& allocator) {
  if (o.engine != Engine::graph) return std::string(description_of(o.engine));
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
  const RunCopies copies{
      *std::max_element(o.threads.begin(), o.threads.end()),
      std::find(o.releases.begin(), o.releases.end(), ReleaseMode::background) != o.releases.end()};
  const DataShape shape{file_bytes, double(data.docs.size()), data.vocab_size(),
                        int(std::min<std::size_t>(model.block_size, data.docs.longest() + 1))};
  if (o.engine != Engine::graph) {
    // A tape step past 2^31 - 1 activations (16 GiB) is refused, --force or not.
    if (tape_activations(model, shape.vocab, shape.positions) > 2147483647.0)
      throw MemoryRefused("the tape engine holds at most 2^31 - 1 activations per step");
    return check_memory(o, estimate_tape_run(model, shape, o.engine, copies));
  }
  std::vector<std::pair<std::string, NodeCost>> costs;
  for_each_policy([&]<class P>(std::type_identity<P>) {
    if (o.allocator == "all" || o.allocator == P::name)
      costs.emplace_back(std::string(P::name), node_cost_of<P>());
  });
  check_memory(o, estimate_graph_run(model, shape, o.run.samples > 0, o.run.topo, costs, copies));
}

int run(const Options& o) {
  const std::vector<std::string> allocators =
      o.engine != Engine::graph ? std::vector<std::string>{std::string(to_string(o.engine))}
      : o.allocator == "all"    ? policy_names()
                                : std::vector<std::string>{o.allocator};
  std::vector<std::string> mallocs = {o.malloc};
  if (o.malloc == "all") {
    mallocs.clear();
    for (const auto& m : process_mallocs()) mallocs.emplace_back(m.name);
  }
  const bool in_process =
      !o.worker && allocators.size() * mallocs.size() == 1 && o.repeat == 1 && !o.thread_axis;
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
    // The path is read again: what was renamed over it or written into it
    // since the parent read it would train this worker on other data.
    if (!o.data_hash.empty() && std::to_string(data.content_hash) != o.data_hash) {
      throw DatasetError("the dataset changed during the run: " + data_path +
                         " no longer holds the bytes bench_train read at its start");
    }
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

  // The cells of the --malloc x --allocator (x --release x --threads) matrix.
  // A policy that cannot give nodes back on another thread has no background
  // cells: refused when named, left out (and said so) under --allocator=all.
  std::vector<PolicyRuns> all;
  std::vector<Cell> cells;
  std::vector<std::string> notes;
  Fields left_out;
  const int cores = cores_online();
  for (const auto& malloc : mallocs) {
    for (const auto& name : allocators) {
      for (ReleaseMode release : o.releases) {
        const PolicyTraits traits = traits_of(name);
        if (release == ReleaseMode::background && !traits.cross_thread_release) {
          if (malloc == mallocs[0]) {
            notes.push_back("background release leaves out " + name + ": " +
                            std::string(traits.single_thread_release_reason));
            left_out.push_back({name, json_string(traits.single_thread_release_reason)});
          }
          continue;
        }
        for (int threads : o.threads) {
          all.push_back({name, description_of(o, name), {}, traits, !malloc.empty()});
          all.back().threads = threads;
          all.back().release = release;
          all.back().thread_axis = o.thread_axis;
          all.back().oversubscribed =
              threads * (release == ReleaseMode::background ? 2 : 1) > cores;
          cells.push_back({name, malloc, threads, release});
        }
      }
    }
  }
  if (all.empty()) throw UsageError(notes.at(0));  // not reached: --release=background is checked

  // What each replica must print: a single-threaded run of its seed.
  std::vector<Seed> seeds;
  std::vector<std::uint64_t> expected;
  if (o.thread_axis) {
    try {
      seeds = replica_seeds(o.run, *std::max_element(o.threads.begin(), o.threads.end()));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    expected = single_thread_hashes(o, data, allocators[0], seeds);
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
        Measurement m = run_worker(o, cells[cell], data_path, data, done + 1, total);
        ++done;
        std::string axis;
        if (o.thread_axis) {
          axis = " x" + std::to_string(runs.threads) + (runs.oversubscribed ? "*" : "") + " " +
                 std::string(to_string(runs.release));
          check_replicas(m, runs.allocator + axis + " (run " + std::to_string(done) + ")", seeds,
                         expected);
        }
        if (!o.quiet) {
          std::fprintf(stderr, "[%*d/%d] %-14s %-16s%s %.3f s  loss %.4f\n", width, done, total,
                       runs.allocator.c_str(), m.malloc.c_str(), axis.c_str(), m.train_seconds,
                       m.final_loss);
        }
        runs.repetitions.push_back(m);
      }
    }
    if (o.thread_axis) {
      print_thread_table(stdout, all, notes);
    } else if (all.size() == 1) {
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
  if (o.thread_axis) {
    std::printf(
        "\nreplicas: each printed what a single-threaded run of its seed prints (seeds "
        "%s to %s)\n",
        seeds.front().decimal().c_str(), seeds.back().decimal().c_str());
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
    Fields config = config_fields(o, data_path, data);
    if (o.thread_axis) config.push_back({"background_left_out", json_object(left_out)});
    write_file_atomically(json, to_json(context, config, all));
  }
  return 0;
}

}  // namespace

// One line on stderr, whatever the message holds (a path with a newline).
void print_error(const std::string& message) {
  std::fprintf(stderr, "bench_train: %s\n", one_line(message).c_str());
}

int main(int argc, char** argv) {
  open_standard_streams();   // before anything opens a file: see bench/worker.hpp
  ignore_file_size_limit();  // a full --json or stdout under ulimit -f is an error, not SIGXFSZ
  Options o;
  CLI::App app{
      "Trains microgpt (Karpathy's scalar-autograd GPT) and measures the allocation policy.",
      "bench_train"};
  app.get_formatter()->column_width(30);
  app.footer(
      "Integer options are decimal, as Python's int() reads them: 010 is "
      "ten; 0x3, 1e1 and 5.0 are not integers.");
  std::string allocator_list = "'all'";
  for (const auto& name : policy_names()) allocator_list += ", " + name;
  std::string engine(to_string(Engine::graph));
  std::string engine_help;
  std::vector<std::string> engine_names;
  for (const auto& info : kEngineNames) {
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
      ->transform(integer_in(1, 10'000'000))
      ->capture_default_str();
  app.add_option("--seed", o.seed,
                 "random seed, any integer, as Python's random.seed (-1 is 1); mulberry32 takes "
                 "|seed| < 2^53, as microgpt.ts's `seed | 0`")
      ->check([](const std::string& text) -> std::string {  // the one rule, any size
        return Seed::parse(text) ? "" : "not an integer of at most 4300 digits: '" + text + "'";
      })
      ->type_name("INT")
      ->capture_default_str();
  std::string rng_help;
  std::vector<std::string> rng_names;
  for (const auto& [kind, name, description] : kRngKindNames) {
    rng_help += std::string(rng_help.empty() ? "" : "; ") + std::string(name) + ": " +
                std::string(description);
    rng_names.emplace_back(name);
  }
  app.add_option("--rng", o.rng, rng_help)->check(CLI::IsMember(rng_names))->capture_default_str();
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
      ->transform(integer_in(1, 4096))
      ->capture_default_str();
  app.add_option("--n-head", o.run.model.n_head, "attention heads (must divide --n-embd)")
      ->transform(integer_in(1, 4096))
      ->capture_default_str();
  app.add_option("--n-layer", o.run.model.n_layer, "transformer layers")
      ->transform(integer_in(1, 256))
      ->capture_default_str();
  app.add_option("--block-size", o.run.model.block_size, "maximum sequence length")
      ->transform(integer_in(1, 65536))
      ->capture_default_str();
  app.add_option("--samples", o.run.samples, "names sampled after training")
      ->transform(integer_in(0, 1'000'000))
      ->capture_default_str();
  app.add_option("--data", o.data,
                 "names.txt, one name per line (default: ../shared/data/names.txt if it exists, "
                 "else data/names.txt, downloaded if missing)")
      ->check([](const std::string& path) -> std::string {
        return path.empty() ? "the path is empty" : "";  // else "" would mean: download
      });
  app.add_option("--repeat", o.repeat, "repetitions per policy, each in a fresh process")
      ->transform(integer_in(1, 10'000))
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
                 "also write the results as JSON to this file (atomically, keeping an existing "
                 "file's permissions; never over an input, standard output or anything but a "
                 "regular file; '-' is refused: standard output carries the table)")
      ->check([](const std::string& path) -> std::string {
        return path.empty() ? "the path is empty" : "";
      });
  auto* threads_option =
      app.add_option(
             "--threads", o.threads_list,
             "replicas trained at once in one process, each on its own thread with its own "
             "policy instance and the seed --seed + i; a list (1,2,4) runs each count (each "
             "in a fresh process, the runs compared); every replica's output is checked "
             "against a single-threaded run of its seed")
          ->check([](const std::string& text) { return parse_thread_list(text); })
          ->type_name("N[,N...]")
          ->capture_default_str();
  std::string release_help = "who frees a step's nodes:";
  std::vector<std::string> release_names = {"all"};
  for (const auto& [mode, name, description] : kReleaseModeNames) {
    release_help += std::string(release_names.size() == 1 ? " " : "; ") + std::string(name) + ": " +
                    std::string(description);
    release_names.emplace_back(name);
  }
  auto* release_option =
      app.add_option("--release", o.release_list,
                     release_help +
                         "; all: each (--allocator=all leaves out the policies that "
                         "cannot free on another thread, and says why)")
          ->check(CLI::IsMember(release_names))
          ->capture_default_str();
  app.add_flag("--force", o.force,
               "run even if the estimated memory exceeds the machine's (the estimate is in the "
               "refusal)");
  app.add_option("--worker-timeout", o.worker_timeout,
                 "seconds a worker process may run before it is killed and the run fails; 0: no "
                 "limit")
      ->check([](const std::string& text) -> std::string {
        return parse_seconds(text, 1e9) ? ""
                                        : "not a number of seconds from 0 to 1e9: '" + text + "'";
      })
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
  app.add_option("--data-hash", o.data_hash)->group("");        // internal, see run_worker
  app.add_option("--inject-fault", o.inject_fault)->group("");  // internal, for tests

  try {
    app.parse(argc, argv);
    o.engine = *parse_enum<Engine>(engine);
    const std::string tape_engine = "the " + engine + " engine";
    if (o.engine != Engine::graph && allocator_option->count() > 0 && !o.worker) {
      throw CLI::ValidationError("--allocator", tape_engine + " has no allocation policy");
    }
    if (o.engine != Engine::graph && topo_option->count() > 0 && !o.worker) {
      throw CLI::ValidationError("--topo", tape_engine + " has no graph to sort");
    }
    o.run.seed = *Seed::parse(o.seed);
    o.run.rng = *parse_enum<RngKind>(o.rng);
    if (o.run.rng == RngKind::mulberry32 && !o.run.seed.javascript_int32()) {
      throw CLI::ValidationError("--seed",
                                 "--rng mulberry32 takes a seed below 2^53 in magnitude "
                                 "(microgpt.ts's numbers hold no larger integer exactly)");
    }
    o.thread_axis = threads_option->count() > 0 || release_option->count() > 0;
    parse_thread_list(o.threads_list, &o.threads);
    o.releases.clear();
    for (const auto& [mode, name, description] : kReleaseModeNames) {
      if (o.release_list == "all" || o.release_list == name) o.releases.push_back(mode);
    }
    const bool background = o.release_list == to_string(ReleaseMode::background);
    if (o.engine != Engine::graph && o.release_list != to_string(ReleaseMode::inline_release) &&
        release_option->count() > 0) {
      throw CLI::ValidationError("--release", tape_engine + " makes no nodes to release");
    }
    if (o.engine == Engine::graph && background && o.allocator != "all") {
      const PolicyTraits traits = traits_of(o.allocator);
      if (!traits.cross_thread_release) {
        throw CLI::ValidationError("--release",
                                   o.allocator + " cannot give nodes back on another thread: " +
                                       std::string(traits.single_thread_release_reason));
      }
    }
    if (o.thread_axis && !o.worker) {
      try {  // replica seeds past what Seed or --rng mulberry32 takes
        replica_seeds(o.run, *std::max_element(o.threads.begin(), o.threads.end()));
      } catch (const std::invalid_argument& e) {
        throw CLI::ValidationError("--threads", e.what());
      }
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
    if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return 0;
    print_error("cannot write the list to standard output");
    return kRuntimeError;
  }
  o.argv = argv;
  o.run.rng = *parse_enum<RngKind>(o.rng);
  o.run.topo = *parse_enum<TopoOrder>(o.topo);
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
