// Where and how a measurement was made: stored with every result so results
// from different machines and builds can sit side by side.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mga {

// Ordered (key, value) pairs: date, host, cpu, cores, compiler, flags,
// the allocator libraries' versions (glibc, mimalloc, jemalloc, tcmalloc), git_commit.
std::vector<std::pair<std::string, std::string>> measurement_context();

}  // namespace mga
