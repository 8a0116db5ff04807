// bench_train: microgpt training, timed for one allocation policy or all.
//
//   bench_train --allocator=arena          microgpt's output, then a summary
//   bench_train --allocator=all --repeat 3  every policy, each run in a fresh
//                                           process, then one comparison table
//   bench_train --engine=tape               fused ops on flat buffers instead of
//                                           the node graph: the no-node ceiling
//                                           (tape-exact: with the graph's bits)
#include <sys/sysinfo.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "bench/context.hpp"
#include "bench/report.hpp"
#include "bench/worker.hpp"
#include "core/tape_model.hpp"

namespace {

using namespace mga;

struct Options {
  Engine engine = Engine::graph;
  std::string allocator = "new";
  RunConfig run;
  std::string rng = "python";
  std::string topo = "dfs";
  std::string data;
  std::string json;
  int repeat = 1;
  bool quiet = false;
  bool worker = false;  // internal: one quiet run that prints a record line
};

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
  return {{"engine", json_string(engine_name(o.engine))},
          {"steps", std::to_string(o.run.steps)},
          {"seed", std::to_string(o.run.seed)},
          {"rng", json_string(o.rng)},
          {"topo", json_string(o.topo)},
          {"n_embd", std::to_string(m.n_embd)},
          {"n_head", std::to_string(m.n_head)},
          {"n_layer", std::to_string(m.n_layer)},
          {"block_size", std::to_string(m.block_size)},
          {"samples", std::to_string(o.run.samples)},
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
    return make_measurement(engine_name(o.engine), run, hash);
  }
  with_policy(o.allocator, [&]<class P>(std::type_identity<P>) {
    RunResult run = run_microgpt<P>(data, o.run, print);
    result = make_measurement(P::name, run, hash);
  });
  return result;
}

// Runs this program again as a worker for one policy and returns its record.
Measurement run_worker(const Options& o, const std::string& allocator,
                       const std::string& data_path) {
  const auto& m = o.run.model;
  std::vector<std::string> args = {"bench_train",  "--worker",
                                   "--engine",     std::string(engine_name(o.engine)),
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
  if (o.engine == Engine::graph) args.insert(args.end(), {"--allocator", allocator});
  const std::string output = run_worker_process(allocator, args);
  auto record = parse_record(output.substr(output.rfind("mga-record") == std::string::npos
                                               ? output.size()
                                               : output.rfind("mga-record")));
  if (!record) throw std::runtime_error("the " + allocator + " worker printed no result");
  return *record;
}

std::string description_of(const Options& o, const std::string& allocator) {
  if (o.engine != Engine::graph) return std::string(engine_info(o.engine).description);
  std::string description;
  with_policy(allocator, [&]<class P>(std::type_identity<P>) { description = P::description; });
  return description;
}

int run(const Options& o) {
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

  const std::vector<std::string> allocators =
      o.engine != Engine::graph ? std::vector<std::string>{std::string(engine_name(o.engine))}
      : o.allocator == "all"    ? policy_names()
                                : std::vector<std::string>{o.allocator};
  std::vector<PolicyRuns> all;
  for (const auto& name : allocators) all.push_back({name, description_of(o, name), {}});

  if (allocators.size() == 1 && o.repeat == 1) {
    all[0].repetitions.push_back(run_in_process(o, data, !o.quiet));
    print_summary(stdout, all[0]);
  } else {
    // Round-robin over policies, so slow drift of the machine hits all alike.
    const int total = o.repeat * int(allocators.size());
    int done = 0;
    for (int rep = 0; rep < o.repeat; ++rep) {
      for (auto& runs : all) {
        Measurement m = run_worker(o, runs.allocator, data_path);
        ++done;
        if (!o.quiet) {
          std::fprintf(stderr, "[%*d/%d] %-14s %.3f s  loss %.4f\n", total >= 10 ? 2 : 1, done,
                       total, runs.allocator.c_str(), m.train_seconds, m.final_loss);
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
  app.add_option("--json", o.json, "also write the results as JSON to this file (atomically)");
  app.add_flag("--quiet", o.quiet, "print only the summary (no microgpt output, no progress)");
  bool list = false;
  app.add_flag("--list-allocators", list, "print the policies, one per line, and exit");
  app.add_flag("--worker", o.worker)->group("");  // internal, see run_worker

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
    for_each_policy([]<class P>(std::type_identity<P>) {
      std::printf("%-14s %s\n", std::string(P::name).c_str(), std::string(P::description).c_str());
    });
    return 0;
  }
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
