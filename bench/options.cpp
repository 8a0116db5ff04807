#include "bench/options.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <optional>

#include "bench/malloc_list.hpp"
#include "bench/noise.hpp"
#include "bench/option_kinds.hpp"
#include "bench/process_malloc.hpp"

namespace mga {

namespace {

// The options whose presence matters beyond their value (validate's rules).
struct GivenOptions {
  CLI::Option* allocator = nullptr;
  CLI::Option* topo = nullptr;
  CLI::Option* threads = nullptr;
  CLI::Option* release = nullptr;
  CLI::Option* format = nullptr;
  CLI::Option* malloc = nullptr;  // its text is read by validate, which knows --malloc-file
  CLI::Option* malloc_file = nullptr;
  CLI::Option* repeat_target = nullptr;
  CLI::Option* repeat_budget = nullptr;
};

// The footer of --help: how numbers are read, and the noise flags' thresholds.
std::string help_footer() {
  char thresholds[256];
  std::snprintf(thresholds, sizeof thresholds,
                "the process ran less than %g%% of the loop's wall time per thread, the "
                "hypervisor stole more than %g%% of the CPU time, or the load average passed "
                "the cores + %g",
                100 * kMinCpuFraction, 100 * kMaxStealFraction, kLoadMargin);
  return "Integer options are decimal, as Python's int() reads them: 010 is ten; 0x3, 1e1 and "
         "5.0 are not integers.\n\nNoise: every repetition's training loop is watched, and "
         "flagged (in the table, the summary and the JSON's \"noise\") when " +
         std::string(thresholds) +
         ". Flagged repetitions stay in the medians.\n\nA quiet machine: nothing else running, "
         "the CPU governor on 'performance' and boost off where the machine lets you, the runs "
         "pinned (taskset) and ASLR off (setarch -R), more repetitions for flagged cells; "
         "docs/method.md#a-quiet-machine has the commands.";
}

// The check of a path option: not "".
std::string path_given(const std::string& path) {
  return path.empty() ? "the path is empty" : "";
}

// Defines every option on `app`, storing into `o`.
GivenOptions define_options(CLI::App& app, Options& o) {
  GivenOptions given;
  app.get_formatter()->column_width(30);
  app.footer(help_footer());
  std::string engine_help;
  for (const auto& info : kEngineNames) {
    engine_help += (engine_help.empty() ? "" : "; ") + std::string(info.name) + ": " +
                   std::string(info.description);
  }
  add_enum(app, "--engine", engine_help, &o.engine);
  std::string allocator_list = "'all'";
  for (const auto& name : policy_names()) allocator_list += ", " + name;
  given.allocator =
      add_parsed<NameList>(
          app, "--allocator",
          "policy to measure, a list of them (run in that order) or 'all'; each run in a fresh "
          "process when there are several: " +
              allocator_list,
          [](const std::string& text, std::string* why) {
            return parse_name_list(text, policy_names(), "allocator", why);
          },
          [&o](NameList list) { o.allocators = std::move(list); })
          ->default_str(o.allocators.text());
  app.add_option("--steps", o.run.steps, "training steps")
      ->transform(integer_in(1, 10'000'000))
      ->capture_default_str();
  add_parsed<Seed>(
      app, "--seed",
      "random seed, any integer, as Python's random.seed (-1 is 1); mulberry32 takes "
      "|seed| < 2^53, as microgpt.ts's `seed | 0`",
      [](const std::string& text, std::string* why) {  // the one rule, any size
        std::optional<Seed> seed = Seed::parse(text);
        if (!seed) *why = "not an integer of at most 4300 digits: '" + text + "'";
        return seed;
      },
      [&o](Seed seed) { o.run.seed = std::move(seed); })
      ->type_name("INT")
      ->default_str(o.run.seed.decimal());
  std::string rng_help;
  for (const auto& [kind, name, description] : kRngKindNames) {
    rng_help += std::string(rng_help.empty() ? "" : "; ") + std::string(name) + ": " +
                std::string(description);
  }
  add_enum(app, "--rng", rng_help, &o.run.rng);
  std::string topo_help = "backward's order:";
  for (const auto& [order, name, description] : kTopoOrderNames) {
    topo_help += std::string(topo_help.back() == ':' ? " " : ", ") + std::string(name) + " (" +
                 std::string(description) + ")";
  }
  given.topo = add_enum(app, "--topo", topo_help, &o.run.topo);
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
      ->check(path_given);  // else "" would mean: download
  add_parsed<int>(          // 0 stands for 'auto'
      app, "--repeat",
      "repetitions per cell, each in a fresh process, round-robin; or 'auto': rounds until "
      "every cell's median has a 95% interval (percentile bootstrap) within --repeat-target, "
      "at least " +
          std::to_string(kAutoMinRounds) + " and at most " + std::to_string(kAutoMaxRounds) +
          " rounds, no round started that the rounds so far predict would pass --repeat-budget",
      [](const std::string& text, std::string* why) -> std::optional<int> {
        if (text == "auto") return 0;
        const auto rounds = parse_integer(text, 1, 10'000, why);
        if (rounds) return int(*rounds);
        *why += " (or 'auto')";
        return std::nullopt;
      },
      [&o](int rounds) {
        o.repeat_auto = rounds == 0;
        o.repeat = rounds == 0 ? 1 : rounds;
      })
      ->type_name("N|auto")
      ->default_str(std::to_string(o.repeat));
  given.repeat_target =
      add_decimal(app, "--repeat-target",
                  "with --repeat auto: the 95% interval's half-width, in percent of the median", 0,
                  100, true, &o.repeat_target_percent)
          ->type_name("PCT");
  given.repeat_budget =
      add_decimal(app, "--repeat-budget", "with --repeat auto: seconds the rounds may take", 0, 1e9,
                  true, &o.repeat_budget)
          ->type_name("SECONDS");
  std::string malloc_list = "'all'";
  for (const auto& m : process_mallocs()) malloc_list += ", " + std::string(m.name);
  given.malloc =
      app.add_option("--malloc", CLI::callback_t{},
                     "process allocator (malloc and operator new of the whole process, each run "
                     "in a fresh process), a list of them (run in that order) or 'all': " +
                         malloc_list +
                         "; or a library of your own, NAME=PATH or a PATH (named after its file); "
                         "default: the one bench_train was started with")
          ->type_name("NAME[,NAME...]");
  given.malloc_file =
      app.add_option("--malloc-file", o.malloc_file,
                     "a file of process allocators of your own, lines 'NAME PATH' ('#' "
                     "comments): --malloc=all runs them after the built-ins, a --malloc list "
                     "by name")
          ->type_name("FILE")
          ->check(path_given);
  app.add_option("--json", o.json,
                 "also write the results as JSON to this file (atomically, keeping an existing "
                 "file's permissions; never over an input, standard output or anything but a "
                 "regular file; '-' is refused: standard output carries the table)")
      ->check(path_given);
  given.threads =
      add_parsed<std::vector<int>>(
          app, "--threads",
          "replicas trained at once in one process, each on its own thread with its own "
          "policy instance and the seed --seed + i; a list (1,2,4) runs each count (each "
          "in a fresh process, the runs compared); every replica's output is checked "
          "against a single-threaded run of its seed",
          parse_thread_list, [&o](std::vector<int> threads) { o.threads = std::move(threads); })
          ->type_name("N[,N...]")
          ->default_str("1");
  std::string release_help = "who frees a step's nodes:";
  std::vector<std::string> release_names = {"all"};
  for (const auto& [mode, name, description] : kReleaseModeNames) {
    release_help += std::string(release_names.size() == 1 ? " " : "; ") + std::string(name) + ": " +
                    std::string(description);
    release_names.emplace_back(name);
  }
  given.release = app.add_option_function<std::string>(
                         "--release",
                         [&o](const std::string& text) {
                           o.releases.clear();
                           for (const auto& [mode, name, description] : kReleaseModeNames) {
                             if (text == "all" || text == name) o.releases.push_back(mode);
                           }
                         },
                         release_help +
                             "; all: each (--allocator=all leaves out the policies that "
                             "cannot free on another thread, and says why)")
                      ->check(CLI::IsMember(release_names))
                      ->default_str(std::string(to_string(o.releases.at(0))));
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
  app.add_flag("--list-allocators", o.list_allocators,
               "print the policies, one per line, and exit");
  given.format = add_enum(app, "--format",
                          "of --list-allocators: text, or json (policies with their traits, and "
                          "the process allocators of --malloc)",
                          &o.list_format);
  app.add_flag("--worker", o.worker)->group("");                // internal, see bench/runner.cpp
  app.add_option("--data-hash", o.data_hash)->group("");        // internal, see bench/runner.cpp
  app.add_option("--inject-fault", o.inject_fault)->group("");  // internal, for tests
  return given;
}

// The rules across options, after each option's own check.
void validate(Options& o, const GivenOptions& given) {
  auto refuse = [](const std::string& option, const std::string& why) {
    throw UsageError(option + ": " + why);
  };
  const bool tape = o.engine != Engine::graph;
  const std::string tape_engine = "the " + std::string(to_string(o.engine)) + " engine";
  if (tape && given.allocator->count() > 0)
    refuse("--allocator", tape_engine + " has no allocation policy");
  if (tape && given.topo->count() > 0) refuse("--topo", tape_engine + " has no graph to sort");
  if (o.run.rng == RngKind::mulberry32 && !o.run.seed.javascript_int32()) {
    refuse("--seed",
           "--rng mulberry32 takes a seed below 2^53 in magnitude (microgpt.ts's numbers hold no "
           "larger integer exactly)");
  }
  o.thread_axis = given.threads->count() > 0 || given.release->count() > 0;
  const bool background_only = o.releases == std::vector{ReleaseMode::background};
  if (tape && o.releases != std::vector{ReleaseMode::inline_release})
    refuse("--release", tape_engine + " makes no nodes to release");
  if (!tape && background_only && !o.allocators.all) {
    for (const auto& name : o.allocators.names) {
      const PolicyTraits traits = traits_of(name);
      if (!traits.cross_thread_release) {
        refuse("--release", name + " cannot give nodes back on another thread: " +
                                std::string(traits.single_thread_release_reason));
      }
    }
  }
  if (o.thread_axis) {
    try {  // replica seeds past what Seed or --rng mulberry32 takes
      replica_seeds(o.run, *std::max_element(o.threads.begin(), o.threads.end()));
    } catch (const std::invalid_argument& e) {
      refuse("--threads", e.what());
    }
  }
  if (given.format->count() > 0 && !o.list_allocators)
    refuse("--format", "applies to --list-allocators only");
  for (CLI::Option* option : {given.repeat_target, given.repeat_budget}) {
    if (option->count() > 0 && !o.repeat_auto)
      refuse(option->get_name(), "applies to --repeat auto only");
  }
  if (given.malloc->count() > 0) {
    std::string why;
    auto mallocs = parse_malloc_list(given.malloc->as<std::string>(), !o.malloc_file.empty(), &why);
    if (!mallocs) throw UsageError(why);
    o.mallocs = std::move(*mallocs);
  } else if (!o.malloc_file.empty()) {
    refuse("--malloc-file",
           "applies with --malloc (--malloc=all, or a list naming its allocators)");
  }
  if (o.run.model.n_embd % o.run.model.n_head != 0) {
    refuse("--n-head", "--n-embd (" + std::to_string(o.run.model.n_embd) +
                           ") is not divisible by --n-head (" + std::to_string(o.run.model.n_head) +
                           ")");
  }
}

CLI::App make_app() {
  return CLI::App(
      "Trains microgpt (Karpathy's scalar-autograd GPT) and measures the allocation policy.",
      "bench_train");
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine line;
  CLI::App app = make_app();
  const GivenOptions given = define_options(app, line.options);
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(int(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    line.help = app.help();
    return line;
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  validate(line.options, given);
  return line;
}

std::vector<std::string> option_names() {
  CLI::App app = make_app();
  Options ignored;
  define_options(app, ignored);
  std::vector<std::string> names;
  for (const CLI::Option* option : app.get_options()) {
    // get_name() is empty for the hidden options: their long names are known.
    if (option != app.get_help_ptr()) names.push_back("--" + option->get_lnames().at(0));
  }
  return names;
}

}  // namespace mga
