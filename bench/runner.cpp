#include "bench/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "bench/background_release.hpp"
#include "bench/process_malloc.hpp"
#include "bench/record.hpp"
#include "bench/report.hpp"
#include "bench/text.hpp"
#include "bench/worker.hpp"
#include "core/tape_model.hpp"

namespace mga {

namespace {

// How `allocator` (a policy, or the tape engine's name) trains one replica
// with `release`.
TrainReplica trainer_for(Engine engine, const std::string& allocator, ReleaseMode release,
                         const Dataset& data) {
  if (engine != Engine::graph) {
    const TapeMode mode = engine == Engine::tape ? TapeMode::fast : TapeMode::exact;
    return [&data, mode](const RunConfig& config, const LineSink& print) {
      return run_tape_microgpt(data, config, print, mode);
    };
  }
  if (release == ReleaseMode::background) {
    return [&data, allocator](const RunConfig& config, const LineSink& print) {
      return run_microgpt_background(allocator, data, config, print);
    };
  }
  TrainReplica train;
  with_policy(allocator, [&]<class P>(std::type_identity<P>) {
    train = [&data](const RunConfig& config, const LineSink& print) {
      return run_microgpt<P>(data, config, print);
    };
  });
  return train;
}

// Runs this program again as a worker for one cell, the run-th worker of
// `runs` (0: of a number not known yet), and returns its record, checked
// against what was asked.
Measurement run_worker(const Options& o, const Cell& cell, const std::string& data_path,
                       const Dataset& data, int run, int runs) {
  std::string label = cell.allocator;
  if (o.thread_axis) {
    label += " x" + std::to_string(cell.threads) + " " + std::string(to_string(cell.release));
  }
  std::vector<std::string> environment;
  if (!cell.malloc.empty()) {
    environment = process_malloc_environment(*find_process_malloc(cell.malloc));
    label += " under " + cell.malloc;
  }
  label += " (run " + std::to_string(run) + (runs > 0 ? " of " + std::to_string(runs) : "") + ")";
  const Options worker = worker_options(o, cell, data_path, data, worker_fault_for_run(run));
  const std::string output = run_worker_process(label, to_args(worker), environment,
                                                {.timeout_seconds = o.worker_timeout});
  auto record = parse_record(output.substr(0, output.find('\n')));
  if (!record || output.find('\n') + 1 != output.size()) {
    throw WorkerError("worker " + label + " printed no valid record (it printed '" +
                      one_line(output.substr(0, 80)) + "')");
  }
  if (record->allocator != cell.allocator || record->steps != o.run.steps) {
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
    single.thread_axis = false;
    // This process's own malloc: the output does not depend on it.
    const Cell cell{.allocator = allocator, .malloc = ""};
    hashes.push_back(run_cell(single, cell, data, false).output_hash);
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

}  // namespace

Measurement run_cell(const Options& o, const Cell& cell, const Dataset& data, bool print_output) {
  OutputHash hash;
  LineSink print = [&](const std::string& line) {
    hash.add_line(line);
    if (print_output) {  // every byte that was hashed, a NUL too
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    }
  };
  print = with_noise_fault(o.inject_fault, print);
  // The noise of the training loop: every replica's, on the thread axis.
  LoopNoise loops(o.thread_axis ? cell.threads : 1);
  const TrainReplica train = [&loops,
                              trained = trainer_for(o.engine, cell.allocator, cell.release, data)](
                                 const RunConfig& config, const LineSink& sink) {
    return trained(config, loops.watch(sink));
  };
  Measurement result;
  if (o.thread_axis) {
    const ReplicaRuns runs = run_replicas(o.run, cell.threads, train);
    result = make_measurement(cell.allocator, runs, cell.release);
  } else {
    // Two statements: `hash` is read only after the run has printed everything
    // (in one call, the argument could be copied before the run fills it).
    const RunResult run = train(o.run, print);
    result = make_measurement(cell.allocator, run, hash.value());
  }
  result.noise = loops.noise();
  flag_noise(result);
  // After the measurement: glibc's check of its fastbins frees a few blocks.
  const ActiveMalloc active = checked_process_malloc(cell.malloc);
  result.malloc = active.name;
  result.malloc_library = active.library;
  result.malloc_source = to_string(active.source);
  result.malloc_sha256 = active.sha256;
  return result;
}

Rounds run_round_robin(const Options& o, Plan& plan, const std::string& data_path,
                       const Dataset& data) {
  // What each replica must print: a single-threaded run of its seed.
  std::vector<Seed> seeds;
  std::vector<std::uint64_t> expected;
  if (o.thread_axis) {
    seeds = replica_seeds(o.run, *std::max_element(o.threads.begin(), o.threads.end()));
    expected = single_thread_hashes(o, data, plan.cells.at(0).allocator, seeds);
  }
  // Round-robin over the cells, so slow drift of the machine hits all alike.
  const int cells = int(plan.cells.size());
  const int total = o.repeat_auto ? 0 : o.repeat * cells;  // with auto: not known yet
  const int width = int(std::to_string(o.repeat_auto ? cells : total).size());
  const auto started = std::chrono::steady_clock::now();
  Rounds rounds;
  rounds.automatic = o.repeat_auto;
  int done = 0;
  while (!rounds.automatic ? rounds.count < o.repeat : rounds.outcome.empty()) {
    ++rounds.count;
    for (int cell = 0; cell < cells; ++cell) {
      PolicyRuns& runs = plan.runs[std::size_t(cell)];
      Measurement m =
          run_worker(o, plan.cells[std::size_t(cell)], data_path, data, done + 1, total);
      ++done;
      std::string axis;
      if (o.thread_axis) {
        axis = " x" + std::to_string(runs.threads) + (runs.oversubscribed ? "*" : "") + " " +
               std::string(to_string(runs.release));
        check_replicas(m, runs.allocator + axis + " (run " + std::to_string(done) + ")", seeds,
                       expected);
      }
      if (!o.quiet) {
        const std::string counter =
            o.repeat_auto ? "round " + std::to_string(rounds.count) + ", " : "";
        std::fprintf(stderr, "[%s%*d/%d] %-14s %-16s%s %.3f s  loss %.4f%s\n", counter.c_str(),
                     width, o.repeat_auto ? cell + 1 : done, o.repeat_auto ? cells : total,
                     runs.allocator.c_str(), m.malloc.c_str(), axis.c_str(), m.train_seconds,
                     m.final_loss, m.noise.flags.empty() ? "" : "  (noise flagged)");
      }
      runs.repetitions.push_back(m);
    }
    if (!rounds.automatic) continue;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const AutoRepeatStep step = auto_repeat_step(plan.runs, rounds.count, elapsed,
                                                 o.repeat_target_percent / 100, o.repeat_budget);
    if (step.end) rounds = *step.end;
    if (!o.quiet && !step.progress.empty())
      std::fprintf(stderr, "[repeat auto] %s\n", step.progress.c_str());
  }
  if (o.thread_axis) {
    print_thread_table(stdout, plan.runs, plan.notes);
  } else if (plan.runs.size() == 1) {
    print_summary(stdout, plan.runs[0]);
  } else {
    print_table(stdout, plan.runs);
  }
  if (rounds.automatic) {
    if (!o.quiet) {
      std::fprintf(stderr, "[repeat auto] %s: %s\n", rounds.outcome.c_str(), rounds.text.c_str());
    }
    std::printf("\nrepeat auto (%s): %s\n", rounds.outcome.c_str(), rounds.text.c_str());
  }
  return rounds;
}

void check_outputs_agree(const Options& o, const Plan& plan) {
  const Measurement& first = plan.runs.at(0).repetitions.at(0);
  const Measurement* differing = nullptr;
  for (const auto& runs : plan.runs) {
    for (const auto& m : runs.repetitions) {
      if (m.output_hash != first.output_hash && differing == nullptr) differing = &m;
    }
  }
  if (o.thread_axis) {
    const std::vector<Seed> seeds =
        replica_seeds(o.run, *std::max_element(o.threads.begin(), o.threads.end()));
    std::printf(
        "\nreplicas: each printed what a single-threaded run of its seed prints (seeds "
        "%s to %s)\n",
        seeds.front().decimal().c_str(), seeds.back().decimal().c_str());
  }
  if (plan.runs.size() > 1 || plan.runs[0].repetitions.size() > 1) {
    std::printf("\noutput: %s\n",
                differing == nullptr
                    ? "identical in every run (same losses and samples)"
                    : "DIFFERS between runs: the policies do not compute the same thing");
  }
  if (differing != nullptr) {  // a failed run writes no result
    throw std::runtime_error("the output differs between runs (" + first.allocator +
                             " printed FNV-1a " + std::to_string(first.output_hash) + ", " +
                             differing->allocator + " " + std::to_string(differing->output_hash) +
                             "); no result written");
  }
}

}  // namespace mga
