// The names the tests train on, found by the one dataset location rule
// (core/dataset.hpp) from the source directory, never downloaded: "" if there
// is none there, and the tests that need the real names skip.
#pragma once

#include <string>

#include "core/dataset.hpp"

#ifndef MGA_SOURCE_DIR
#error "MGA_SOURCE_DIR must be the source directory"
#endif

namespace mga::test {

inline const std::string& names_path() {
  static const std::string path = [] {
    try {
      return resolve_dataset("", {.base = MGA_SOURCE_DIR, .download = false});
    } catch (const DatasetError&) {
      return std::string();
    }
  }();
  return path;
}

}  // namespace mga::test
