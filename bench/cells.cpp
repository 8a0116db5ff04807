#include "bench/cells.hpp"

#include "bench/process_malloc.hpp"

namespace mga {

namespace {

std::string description_of(const Options& o, const std::string& allocator) {
  if (o.engine != Engine::graph) return std::string(description_of(o.engine));
  std::string description;
  with_policy(allocator, [&]<class P>(std::type_identity<P>) { description = P::description; });
  return description;
}

}  // namespace

std::vector<std::string> cell_allocators(const Options& o) {
  if (o.engine != Engine::graph) return {std::string(to_string(o.engine))};
  return o.allocators.names;
}

std::vector<std::string> cell_mallocs(const Options& o) {
  if (o.mallocs.names.empty()) return {""};
  return o.mallocs.names;
}

bool runs_in_this_process(const Options& o) {
  return !o.worker && cell_allocators(o).size() * cell_mallocs(o).size() == 1 && o.repeat == 1 &&
         !o.repeat_auto && !o.thread_axis;
}

Plan plan_cells(const Options& o) {
  Plan plan;
  const std::vector<std::string> mallocs = cell_mallocs(o);
  const int cores = cores_online();
  for (const auto& malloc : mallocs) {
    for (const auto& name : cell_allocators(o)) {
      for (ReleaseMode release : o.releases) {
        const PolicyTraits traits = traits_of(name);
        if (release == ReleaseMode::background && !traits.cross_thread_release) {
          if (malloc == mallocs[0]) {
            plan.notes.push_back("background release leaves out " + name + ": " +
                                 std::string(traits.single_thread_release_reason));
            plan.left_out.push_back({name, json_string(traits.single_thread_release_reason)});
          }
          continue;
        }
        for (int threads : o.threads) {
          PolicyRuns runs{name, description_of(o, name), {}, traits, !malloc.empty()};
          runs.threads = threads;
          runs.release = release;
          runs.thread_axis = o.thread_axis;
          runs.oversubscribed = threads * (release == ReleaseMode::background ? 2 : 1) > cores;
          plan.runs.push_back(runs);
          plan.cells.push_back({name, malloc, threads, release});
        }
      }
    }
  }
  // Not reached: a --release=background that leaves nothing is refused when parsed.
  if (plan.runs.empty()) throw UsageError(plan.notes.at(0));
  return plan;
}

Options worker_options(const Options& o, const Cell& cell, const std::string& data_path,
                       const Dataset& data, const std::string& fault) {
  Options worker;
  worker.worker = true;
  worker.engine = o.engine;
  if (o.engine == Engine::graph) worker.allocators = {{cell.allocator}};
  // A user allocator as NAME=PATH: the worker adds it to its list again.
  if (!cell.malloc.empty()) worker.mallocs = {{malloc_argument(*find_process_malloc(cell.malloc))}};
  worker.run = o.run;
  worker.data = data_path;
  worker.data_hash = std::to_string(data.content_hash);
  worker.thread_axis = o.thread_axis;
  worker.threads = {cell.threads};
  worker.releases = {cell.release};
  worker.inject_fault = fault;
  return worker;
}

}  // namespace mga
