#include "bench/options.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <optional>
#include <tuple>

#include "bench/numbers.hpp"
#include "bench/process_malloc.hpp"

namespace mga {

namespace {

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

std::vector<std::string> malloc_names() {
  std::vector<std::string> names;
  for (const auto& m : process_mallocs()) names.emplace_back(m.name);
  return names;
}

// An option whose text is checked by `parse` (nullopt and a reason if the
// text is refused) and then stored by `store`.
template <class T>
CLI::Option* add_parsed(CLI::App& app, const std::string& name, const std::string& help,
                        std::function<std::optional<T>(const std::string&, std::string*)> parse,
                        std::function<void(T)> store) {
  return app
      .add_option_function<std::string>(
          name,
          [parse, store](const std::string& text) {
            std::string why;  // none: the check below has passed
            store(*parse(text, &why));
          },
          help)
      ->check([parse](const std::string& text) {
        std::string why;
        return parse(text, &why) ? std::string() : why;
      });
}

template <NamedEnum Enum>
CLI::Option* add_enum(CLI::App& app, const std::string& name, const std::string& help,
                      Enum* value) {
  std::vector<std::string> names;
  for (const auto& entry : enum_names(Enum{})) names.emplace_back(entry.name);
  return app
      .add_option_function<std::string>(
          name, [value](const std::string& text) { *value = *parse_enum<Enum>(text); }, help)
      ->check(CLI::IsMember(names))
      ->default_str(std::string(to_string(*value)));
}

// The options whose presence matters beyond their value (validate's rules).
struct GivenOptions {
  CLI::Option* allocator = nullptr;
  CLI::Option* topo = nullptr;
  CLI::Option* threads = nullptr;
  CLI::Option* release = nullptr;
  CLI::Option* format = nullptr;
};

// Defines every option on `app`, storing into `o`.
GivenOptions define_options(CLI::App& app, Options& o) {
  GivenOptions given;
  app.get_formatter()->column_width(30);
  app.footer(
      "Integer options are decimal, as Python's int() reads them: 010 is "
      "ten; 0x3, 1e1 and 5.0 are not integers.");
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
      ->check([](const std::string& path) -> std::string {
        return path.empty() ? "the path is empty" : "";  // else "" would mean: download
      });
  app.add_option("--repeat", o.repeat, "repetitions per policy, each in a fresh process")
      ->transform(integer_in(1, 10'000))
      ->capture_default_str();
  std::string malloc_list = "'all'";
  for (const auto& name : malloc_names()) malloc_list += ", " + name;
  add_parsed<NameList>(
      app, "--malloc",
      "process allocator (malloc and operator new of the whole process, each run in a fresh "
      "process), a list of them (run in that order) or 'all': " +
          malloc_list + "; default: the one bench_train was started with",
      [](const std::string& text, std::string* why) {
        return parse_name_list(text, malloc_names(), "process allocator", why);
      },
      [&o](NameList list) { o.mallocs = std::move(list); });
  app.add_option("--json", o.json,
                 "also write the results as JSON to this file (atomically, keeping an existing "
                 "file's permissions; never over an input, standard output or anything but a "
                 "regular file; '-' is refused: standard output carries the table)")
      ->check([](const std::string& path) -> std::string {
        return path.empty() ? "the path is empty" : "";
      });
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

std::string decimal(double value) {
  char buffer[64];
  return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

}  // namespace

bool operator==(const Options& a, const Options& b) {
  auto fields = [](const Options& o) {
    const RunConfig& r = o.run;
    return std::tie(o.engine, o.allocators, o.mallocs, r.steps, r.seed.decimal(), r.rng, r.samples,
                    r.topo, r.model.n_embd, r.model.n_head, r.model.n_layer, r.model.block_size,
                    o.data, o.json, o.repeat, o.quiet, o.force, o.worker_timeout, o.thread_axis,
                    o.threads, o.releases, o.list_allocators, o.list_format, o.worker, o.data_hash,
                    o.inject_fault);
  };
  return fields(a) == fields(b);
}

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

std::vector<std::string> to_args(const Options& o) {
  const Options defaults;
  std::vector<std::string> args = {"bench_train"};
  auto put = [&](const char* name, const auto& value, const auto& default_value,
                 const std::string& text) {
    if (value != default_value) args.push_back(std::string(name) + "=" + text);
  };
  auto flag = [&](const char* name, bool on) {
    if (on) args.emplace_back(name);
  };
  const RunConfig& run = o.run;
  const RunConfig& default_run = defaults.run;
  put("--engine", o.engine, defaults.engine, std::string(to_string(o.engine)));
  put("--allocator", o.allocators, defaults.allocators, o.allocators.text());
  put("--steps", run.steps, default_run.steps, std::to_string(run.steps));
  put("--seed", run.seed.decimal(), default_run.seed.decimal(), run.seed.decimal());
  put("--rng", run.rng, default_run.rng, std::string(to_string(run.rng)));
  put("--topo", run.topo, default_run.topo, std::string(to_string(run.topo)));
  put("--n-embd", run.model.n_embd, default_run.model.n_embd, std::to_string(run.model.n_embd));
  put("--n-head", run.model.n_head, default_run.model.n_head, std::to_string(run.model.n_head));
  put("--n-layer", run.model.n_layer, default_run.model.n_layer, std::to_string(run.model.n_layer));
  put("--block-size", run.model.block_size, default_run.model.block_size,
      std::to_string(run.model.block_size));
  put("--samples", run.samples, default_run.samples, std::to_string(run.samples));
  put("--data", o.data, defaults.data, o.data);
  put("--repeat", o.repeat, defaults.repeat, std::to_string(o.repeat));
  put("--malloc", o.mallocs, defaults.mallocs, o.mallocs.text());
  put("--json", o.json, defaults.json, o.json);
  if (o.thread_axis) {
    std::vector<std::string> counts;
    for (int n : o.threads) counts.push_back(std::to_string(n));
    args.push_back("--threads=" + join_list(counts));
    args.push_back("--release=" +
                   std::string(o.releases.size() > 1 ? "all" : to_string(o.releases.at(0))));
  }
  flag("--force", o.force);
  put("--worker-timeout", o.worker_timeout, defaults.worker_timeout, decimal(o.worker_timeout));
  flag("--quiet", o.quiet);
  flag("--list-allocators", o.list_allocators);
  put("--format", o.list_format, defaults.list_format, std::string(to_string(o.list_format)));
  flag("--worker", o.worker);
  put("--data-hash", o.data_hash, defaults.data_hash, o.data_hash);
  put("--inject-fault", o.inject_fault, defaults.inject_fault, o.inject_fault);
  return args;
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
