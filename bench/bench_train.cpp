// bench_train: microgpt training, timed for one allocation policy or all.
//
//   bench_train --allocator=arena          microgpt's output, then a summary
//   bench_train --allocator=all --repeat 3  every policy, each run in a fresh
//                                           process, then one comparison table
//   bench_train --engine=tape               the fused-op tape instead of the
//                                           node graph: the no-allocation ceiling
//   bench_train --malloc=all --allocator=all every policy under every process
//                                           allocator (bench/process_malloc.hpp)
#include <sys/sysinfo.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/context.hpp"
#include "bench/list_allocators.hpp"
#include "bench/process_malloc.hpp"
#include "bench/report.hpp"
#include "bench/worker.hpp"
#include "core/tape_model.hpp"

namespace {

using namespace mga;

struct Options {
  std::string engine = "graph";
  std::string allocator{policy_with(&PolicyTraits::baseline)};
  std::string malloc;  // --malloc: "" = the process allocator this process was started with
  RunConfig run;
  std::string rng = "python";
  std::string topo = "dfs";
  std::string data;
  std::string json;
  int repeat = 1;
  bool quiet = false;
  bool worker = false;    // internal: one quiet run that prints a record line
  char** argv = nullptr;  // to restart under another --malloc
};

constexpr std::string_view kTapeDescription =
    "fused-op tape on flat buffers, no node per op, not bit-exact";

constexpr int kUsageError = 2;
constexpr int kRuntimeError = 1;

std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

// Nodes one training step can create at most (every document at least
// block_size long); used to refuse configurations that cannot fit in memory.
double max_nodes_per_step(const ModelConfig& c, int vocab) {
  const double e = c.n_embd, b = c.block_size, l = c.n_layer;
  const double rmsnorm = 3 * e + 6, linear_per_in_out = 2 * e + 1;
  const double per_position = e + rmsnorm +
                              l * (2 * rmsnorm + 4 * e * linear_per_in_out +
                                   4 * e * linear_per_in_out + e * (8 * e + 1) + 6 * e) +
                              vocab * (2 * e + 1) + 6.0 * vocab + 4;
  const double attention = l * (4 * e + 9 * c.n_head + 8) * b * (b + 1) / 2;
  return b * per_position + attention;
}

Fields config_fields(const Options& o, const std::string& data_path, const Dataset& data) {
  const auto& m = o.run.model;
  return {{"engine", json_string(o.engine)},
          {"steps", std::to_string(o.run.steps)},
          {"seed", std::to_string(o.run.seed)},
          {"rng", json_string(o.rng)},
          {"topo", json_string(o.topo)},
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
  if (o.engine == kTapeEngine) {
    // Two statements: `hash` is read only after the run has printed everything
    // (in one call, the argument could be copied before the run fills it).
    const RunResult run = run_tape_microgpt(data, o.run, print);
    result = make_measurement(kTapeEngine, run, hash);
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
// allocator ("" = this process's) and returns its record.
Measurement run_worker(const Options& o, const std::string& allocator, const std::string& malloc,
                       const std::string& data_path) {
  const auto& m = o.run.model;
  std::vector<std::string> args = {"bench_train",  "--worker",
                                   "--engine",     o.engine,
                                   "--steps",      std::to_string(o.run.steps),
                                   "--seed",       std::to_string(o.run.seed),
                                   "--rng",        o.rng,
                                   "--topo",       o.topo,
                                   "--n-embd",     std::to_string(m.n_embd),
                                   "--n-head",     std::to_string(m.n_head),
                                   "--n-layer",    std::to_string(m.n_layer),
                                   "--block-size", std::to_string(m.block_size),
                                   "--samples",    std::to_string(o.run.samples),
                                   "--data",       data_path};
  if (o.engine == "graph") args.insert(args.end(), {"--allocator", allocator});
  std::vector<std::string> environment;
  std::string label = allocator;
  if (!malloc.empty()) {
    args.insert(args.end(), {"--malloc", malloc});
    environment = process_malloc_environment(*find_process_malloc(malloc));
    label += " under " + malloc;
  }
  const std::string output = run_worker_process(label, args, environment);
  auto record = parse_record(output.substr(output.rfind("mga-record") == std::string::npos
                                               ? output.size()
                                               : output.rfind("mga-record")));
  if (!record) throw std::runtime_error("the " + label + " worker printed no result");
  return *record;
}

std::string description_of(const Options& o, const std::string& allocator) {
  if (o.engine == kTapeEngine) return std::string(kTapeDescription);
  std::string description;
  with_policy(allocator, [&]<class P>(std::type_identity<P>) { description = P::description; });
  return description;
}

int run(const Options& o) {
  const std::vector<std::string> allocators =
      o.engine == kTapeEngine ? std::vector<std::string>{std::string(kTapeEngine)}
      : o.allocator == "all"  ? policy_names()
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
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return kUsageError;
  }
  if (in_process && !o.malloc.empty() &&
      !started_with_process_malloc(*find_process_malloc(o.malloc))) {
    std::fflush(stdout);
    restart_with_process_malloc(*find_process_malloc(o.malloc), o.argv);
  }

  const std::string data_path = resolve_dataset(o.data);
  const Dataset data = load_dataset(data_path);
  const double nodes = max_nodes_per_step(o.run.model, data.vocab_size());
  struct sysinfo info {};
  sysinfo(&info);
  const double memory = double(info.totalram) * info.mem_unit;
  if (nodes * 128 > memory / 2) {
    std::fprintf(
        stderr, "bench_train: this model needs up to %.1f GiB per step; the machine has %.1f GiB\n",
        nodes * 128 / (1 << 30), memory / (1 << 30));
    return kUsageError;
  }
  if (!o.json.empty()) {
    try {
      check_writable(o.json);
    } catch (const std::exception& e) {  // a bad path is bad input: refuse before training
      std::fprintf(stderr, "bench_train: %s\n", e.what());
      return kUsageError;
    }
  }

  if (o.worker) {
    Measurement m = run_in_process(o, data, false);
    std::printf("%s\n", to_record(m).c_str());
    return 0;
  }

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
        Measurement m = run_worker(o, runs.allocator, malloc_of[cell], data_path);
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

  bool identical = true;
  for (const auto& runs : all) {
    for (const auto& m : runs.repetitions)
      identical = identical && m.output_hash == all[0].repetitions[0].output_hash;
  }
  if (all.size() > 1 || o.repeat > 1) {
    std::printf("\noutput: %s\n",
                identical ? "identical in every run (same losses and samples)"
                          : "DIFFERS between runs: the policies do not compute the same thing");
  }
  if (!o.json.empty()) {
    write_file_atomically(o.json, to_json(
                                      [] {
                                        Fields context;
                                        for (auto& [k, v] : measurement_context())
                                          context.push_back({k, json_string(v)});
                                        return context;
                                      }(),
                                      config_fields(o, data_path, data), all));
  }
  return identical ? 0 : kRuntimeError;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Trains microgpt (Karpathy's scalar-autograd GPT) and measures the allocation policy.",
      "bench_train"};
  app.get_formatter()->column_width(30);
  std::string allocator_list = "'all'";
  for (const auto& name : policy_names()) allocator_list += ", " + name;
  app.add_option("--engine", o.engine,
                 "graph: a heap node per scalar op, as microgpt.py (measures --allocator); tape: "
                 "fused ops on flat buffers, the no-allocation ceiling (not bit-exact)")
      ->check(CLI::IsMember({"graph", "tape"}))
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
  app.add_option("--seed", o.run.seed, "random seed (Python's random.seed)")->capture_default_str();
  app.add_option("--rng", o.rng,
                 "python: CPython's MT19937 like microgpt.py; mulberry32: like microgpt.ts")
      ->check(CLI::IsMember({"python", "mulberry32"}))
      ->capture_default_str();
  auto* topo_option =
      app.add_option(
             "--topo", o.topo,
             "backward's order: dfs (microgpt.py's DFS, marks in nodes), hashset (the DFS with "
             "a visited set, as microgpt.py), creation (reverse creation order: no sort, same "
             "bits)")
          ->check(CLI::IsMember({"dfs", "hashset", "creation"}))
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
                 "names.txt, one name per line (default: data/names.txt, downloaded if missing)")
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
  app.add_option("--json", o.json, "also write the results as JSON to this file (atomically)");
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
  app.add_flag("--worker", o.worker)->group("");  // internal, see run_worker

  try {
    app.parse(argc, argv);
    if (o.engine == kTapeEngine && allocator_option->count() > 0 && !o.worker) {
      throw CLI::ValidationError("--allocator", "the tape engine has no allocation policy");
    }
    if (o.engine == kTapeEngine && topo_option->count() > 0 && !o.worker) {
      throw CLI::ValidationError("--topo", "the tape engine has no graph to sort");
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
    std::fprintf(stderr, "bench_train: %s\n", e.what());
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
  o.run.topo = o.topo == "hashset"    ? TopoOrder::hashset
               : o.topo == "creation" ? TopoOrder::creation
                                      : TopoOrder::dfs;
  try {
    const int status = run(o);
    // Results that never reached stdout (disk full, closed pipe) are a failure.
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      throw std::runtime_error("cannot write the results to standard output");
    return status;
  } catch (const DatasetError& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return kUsageError;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "bench_train: out of memory\n");
    return kRuntimeError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return kRuntimeError;
  }
}
