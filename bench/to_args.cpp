// Options written back: operator== and to_args (bench/options.hpp), the
// only writer of a bench_train command line.
#include <tuple>

#include "bench/numbers.hpp"
#include "bench/options.hpp"

namespace mga {

bool operator==(const Options& a, const Options& b) {
  auto fields = [](const Options& o) {
    const RunConfig& r = o.run;
    return std::tie(o.engine, o.allocators, o.mallocs, o.malloc_file, r.steps, r.seed.decimal(),
                    r.rng, r.samples, r.topo, r.model.n_embd, r.model.n_head, r.model.n_layer,
                    r.model.block_size, o.data, o.json, o.repeat, o.repeat_auto,
                    o.repeat_target_percent, o.repeat_budget, o.quiet, o.force, o.worker_timeout,
                    o.thread_axis, o.threads, o.releases, o.list_allocators, o.list_format,
                    o.worker, o.data_hash, o.inject_fault);
  };
  return fields(a) == fields(b);
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
  put("--repeat", o.repeat_auto ? 0 : o.repeat, defaults.repeat,
      o.repeat_auto ? "auto" : std::to_string(o.repeat));
  put("--repeat-target", o.repeat_target_percent, defaults.repeat_target_percent,
      shortest_decimal(o.repeat_target_percent));
  put("--repeat-budget", o.repeat_budget, defaults.repeat_budget,
      shortest_decimal(o.repeat_budget));
  put("--malloc", o.mallocs, defaults.mallocs, o.mallocs.text());
  put("--malloc-file", o.malloc_file, defaults.malloc_file, o.malloc_file);
  put("--json", o.json, defaults.json, o.json);
  if (o.thread_axis) {
    std::vector<std::string> counts;
    for (int n : o.threads) counts.push_back(std::to_string(n));
    args.push_back("--threads=" + join_list(counts));
    args.push_back("--release=" +
                   std::string(o.releases.size() > 1 ? "all" : to_string(o.releases.at(0))));
  }
  flag("--force", o.force);
  put("--worker-timeout", o.worker_timeout, defaults.worker_timeout,
      shortest_decimal(o.worker_timeout));
  flag("--quiet", o.quiet);
  flag("--list-allocators", o.list_allocators);
  put("--format", o.list_format, defaults.list_format, std::string(to_string(o.list_format)));
  flag("--worker", o.worker);
  put("--data-hash", o.data_hash, defaults.data_hash, o.data_hash);
  put("--inject-fault", o.inject_fault, defaults.inject_fault, o.inject_fault);
  return args;
}

}  // namespace mga
