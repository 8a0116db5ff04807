// The engines bench_train can train with, and their names: the command line
// (--engine), its --help, the summary and the JSON ("engine" in the config,
// and the run's name where a policy's name goes for the tapes) all use these.
#pragma once

#include <optional>
#include <string_view>

namespace mga {

enum class Engine {
  graph,       // a heap node per scalar op, as microgpt.py; measures the allocation policies
  tape,        // fused ops on flat buffers, as fast as the machine allows
  tape_exact,  // fused ops with the node graph's arithmetic, bit for bit
};

struct EngineInfo {
  Engine engine;
  std::string_view name;
  std::string_view description;
};

inline constexpr EngineInfo kEngines[] = {
    {Engine::graph, "graph", "a heap node per scalar op, as microgpt.py (measures --allocator)"},
    {Engine::tape, "tape",
     "fused ops on flat buffers, several rows at once: the fastest; forward bit-exact, backward "
     "and Adam not"},
    {Engine::tape_exact, "tape-exact",
     "fused ops on flat buffers with the node graph's arithmetic: every loss and parameter "
     "bit-exact"},
};

inline const EngineInfo& engine_info(Engine engine) {
  for (const auto& info : kEngines) {
    if (info.engine == engine) return info;
  }
  return kEngines[0];  // unreachable: every enumerator is in kEngines
}

inline std::string_view engine_name(Engine engine) {
  return engine_info(engine).name;
}

inline std::optional<Engine> engine_named(std::string_view name) {
  for (const auto& info : kEngines) {
    if (info.name == name) return info.engine;
  }
  return std::nullopt;
}

}  // namespace mga
