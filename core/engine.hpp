// The engines bench_train can train with, and their names: the command line
// (--engine), its --help, the summary and the JSON ("engine" in the config,
// and the run's name where a policy's name goes for the tapes) all use these.
#pragma once

#include <span>

#include "core/enum_names.hpp"

namespace mga {

enum class Engine {
  graph,       // a heap node per scalar op, as microgpt.py; measures the allocation policies
  tape,        // fused ops on flat buffers, as fast as the machine allows
  tape_exact,  // fused ops with the node graph's arithmetic, bit for bit
};

inline constexpr EnumName<Engine> kEngineNames[] = {
    {Engine::graph, "graph", "a heap node per scalar op, as microgpt.py (measures --allocator)"},
    {Engine::tape, "tape",
     "fused ops on flat buffers, several rows at once: the fastest; forward bit-exact, backward "
     "and Adam not"},
    {Engine::tape_exact, "tape-exact",
     "fused ops on flat buffers with the node graph's arithmetic: every loss and parameter "
     "bit-exact"},
};
constexpr std::span<const EnumName<Engine>> enum_names(Engine) {
  return kEngineNames;
}

}  // namespace mga
