// The names both Google Benchmark programs train on: $MGA_DATA, else
// /work/shared/data/names.txt, else a few built-in names so they always run.
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
  std::string source = env && *env ? env : "/work/shared/data/names.txt";
  try {
    return {load_dataset(source), source};
  } catch (const DatasetError&) {
    return {parse_dataset("emma\nolivia\nava\nisabella\nsophia\ncharlotte\nmia\namelia\n"),
            "built-in names (dataset not found at " + source + ")"};
  }
}

}  // namespace mga::bench
