// The memory rule: bench_train refuses a run whose estimated peak memory
// (core/footprint.hpp, per engine, for the longest document actually in the
// data) is more than the memory the machine has: its physical memory, or its
// cgroup's limit when that is lower. --force runs it anyway.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/engine.hpp"
#include "core/footprint.hpp"

namespace mga {

struct MemoryLimit {
  double bytes = 0;
  std::string source;  // "physical memory" or the cgroup file that set it
};
MemoryLimit memory_limit();

// "12.1 GiB", "640.0 MiB"
std::string human_size(double bytes);

// What one process of the run holds at most, and why, for the message.
struct MemoryEstimate {
  double bytes = 0;
  std::string reason;  // e.g. "graph engine, shared_ptr nodes: 3.2M nodes per step at 16 positions"
};

// Loading a dataset file of `file_bytes` (before the file is read): the
// program and the packed documents (at most kLoadBytesPerFileByte a byte).
MemoryEstimate estimate_loading(double file_bytes);

// The dataset a run trains on: its file's size and its documents (the run
// keeps their shuffled order, 4 bytes each), and the positions of its longest
// document, min(block_size, length + 1): a step is never longer, and samples
// are taken to end (at BOS) within that length too.
struct DataShape {
  double file_bytes = 0;
  double documents = 0;
  int vocab = 0;
  int positions = 0;
};

// How many runs a process holds at once (bench_train --threads: replicas
// sharing the dataset) and whether each holds two steps' worth (--release=
// background: a step's nodes wait for the release thread while the next one's
// are made; counted as twice the run, model included, which errs high).
struct RunCopies {
  int replicas = 1;
  bool two_steps = false;
};

// A run of the node graph: the largest of its policies (each runs alone in
// its process), sampling when `sampling`.
MemoryEstimate estimate_graph_run(const ModelConfig& model, const DataShape& data, bool sampling,
                                  TopoOrder topo,
                                  const std::vector<std::pair<std::string, NodeCost>>& policies,
                                  RunCopies copies = {});
// A run of a tape engine (Engine::tape or Engine::tape_exact).
MemoryEstimate estimate_tape_run(const ModelConfig& model, const DataShape& data, Engine engine,
                                 RunCopies copies = {});

// "" if `estimate` fits in `limit`, else the one-line refusal, which states the rule.
std::string memory_refusal(const MemoryEstimate& estimate, const MemoryLimit& limit);

}  // namespace mga
