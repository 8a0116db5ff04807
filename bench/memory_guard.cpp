#include "bench/memory_guard.hpp"

#include <sys/sysinfo.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "core/dataset.hpp"

namespace mga {

namespace {

// The lowest memory limit on the way from this process's cgroup to the root,
// cgroup v2 (memory.max) or v1 (memory.limit_in_bytes); 0 if none.
double cgroup_limit(std::string& source) {
  std::ifstream membership("/proc/self/cgroup");
  double lowest = 0;
  for (std::string line; std::getline(membership, line);) {
    // "0::/path" (v2) or "4:memory:/path" (v1)
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    std::string root, file;
    if (controllers.empty()) {
      root = "/sys/fs/cgroup", file = "memory.max";
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      root = "/sys/fs/cgroup/memory", file = "memory.limit_in_bytes";
    } else {
      continue;
    }
    for (;;) {
      const std::string at = root + (path == "/" ? "" : path) + "/" + file;
      std::ifstream in(at);
      std::string value;
      if (in >> value && value != "max") {
        const double bytes = std::strtod(value.c_str(), nullptr);
        if (bytes > 0 && bytes < 1e18 && (lowest == 0 || bytes < lowest)) {
          lowest = bytes;
          source = at;
        }
      }
      if (path.empty() || path == "/") break;
      path = path.substr(0, path.rfind('/'));
      if (path.empty()) path = "/";
    }
  }
  return lowest;
}

std::string count(double n) {
  char buffer[32];
  if (n >= 1e9) {
    std::snprintf(buffer, sizeof buffer, "%.1fG", n / 1e9);
  } else if (n >= 1e6) {
    std::snprintf(buffer, sizeof buffer, "%.1fM", n / 1e6);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.0f", n);
  }
  return buffer;
}

// What every process holds besides the model: the program, the dataset and
// the order of its documents.
double baseline(double file_bytes, double documents = 0) {
  return kBaselineBytes + double(kLoadBytesPerFileByte) * file_bytes + double(kLoadFixedBytes) +
         4 * documents;
}

}  // namespace

MemoryLimit memory_limit() {
  struct sysinfo info {};
  sysinfo(&info);
  MemoryLimit limit{double(info.totalram) * info.mem_unit, "physical memory"};
  std::string source;
  const double cgroup = cgroup_limit(source);
  if (cgroup > 0 && cgroup < limit.bytes) limit = {cgroup, source};
  return limit;
}

std::string human_size(double bytes) {
  char buffer[32];
  if (bytes >= double(1ULL << 30)) {
    std::snprintf(buffer, sizeof buffer, "%.1f GiB", bytes / double(1ULL << 30));
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f MiB", bytes / double(1ULL << 20));
  }
  return buffer;
}

MemoryEstimate estimate_loading(double file_bytes) {
  return {baseline(file_bytes), "loading a dataset of " + human_size(file_bytes)};
}

namespace {

// The dataset once, the runs as many times as the process holds them.
double with_copies(const DataShape& data, double run_bytes, RunCopies copies) {
  return baseline(data.file_bytes, data.documents * copies.replicas) +
         copies.replicas * (copies.two_steps ? 2 : 1) * run_bytes;
}

std::string copies_reason(RunCopies copies) {
  std::string reason;
  if (copies.replicas > 1) reason += ", " + std::to_string(copies.replicas) + " replicas";
  if (copies.two_steps) reason += ", two steps each (background release)";
  return reason;
}

}  // namespace

MemoryEstimate estimate_graph_run(const ModelConfig& model, const DataShape& data, bool sampling,
                                  TopoOrder topo,
                                  const std::vector<std::pair<std::string, NodeCost>>& policies,
                                  RunCopies copies) {
  const int vocab = data.vocab, positions = data.positions;
  MemoryEstimate largest;
  for (const auto& [name, cost] : policies) {
    const double bytes =
        with_copies(data, graph_run_bytes(model, vocab, positions, sampling, cost, topo), copies);
    if (bytes > largest.bytes) {
      const double nodes = std::max(graph_nodes_per_training_step(model, vocab, positions),
                                    sampling ? graph_nodes_per_sample(model, vocab, positions) : 0);
      largest = {bytes, "graph engine, " + name + ": " + count(nodes) + " nodes per step at " +
                            std::to_string(positions) + " positions" + copies_reason(copies)};
    }
  }
  return largest;
}

MemoryEstimate estimate_tape_run(const ModelConfig& model, const DataShape& data, Engine engine,
                                 RunCopies copies) {
  const int vocab = data.vocab, positions = data.positions;
  const bool exact = engine == Engine::tape_exact;
  return {with_copies(data, tape_run_bytes(model, vocab, positions, exact), copies),
          std::string(to_string(engine)) + " engine: " +
              count(tape_activations(model, vocab, positions)) + " activations per step at " +
              std::to_string(positions) + " positions" + copies_reason(copies)};
}

std::string memory_refusal(const MemoryEstimate& estimate, const MemoryLimit& limit) {
  if (estimate.bytes <= limit.bytes) return "";
  return "this run needs an estimated " + human_size(estimate.bytes) + " (" + estimate.reason +
         "), more than the " + human_size(limit.bytes) + " of " + limit.source +
         "; runs estimated above the machine's memory are refused (--force runs it anyway)";
}

}  // namespace mga
