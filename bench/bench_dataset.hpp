// The names both Google Benchmark programs train on: the dataset location
// rule of core/dataset.hpp ($MGA_DATA, else ../shared/data/names.txt, else
// data/names.txt; never downloaded here), else a few built-in names so they
// always run (the JSON context says which).
#pragma once

#include <cstdlib>
#include <string>

#include "core/dataset.hpp"

namespace mga::bench {

struct BenchDataset {
  Dataset data;
  std::string source;  // where it came from, for the JSON context
};

inline BenchDataset load_bench_dataset() {
  const char* env = std::getenv("MGA_DATA");
  try {
    const std::string path = resolve_dataset(env ? env : "", {.download = false});
    return {load_dataset(path), path};
  } catch (const DatasetError& e) {
    return {parse_dataset("emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\n"),
            env && *env ? std::string("built-in names (") + e.what() + ")"
                        : "built-in names (no names.txt by the location rule; set MGA_DATA)"};
  }
}

}  // namespace mga::bench
