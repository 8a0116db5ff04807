// Policy `new`: one operator new per node, one operator delete per node at the
// end of the step: the unchanged C++ program. Under it is the process
// allocator, glibc malloc unless bench_train --malloc preloads another (the API
// policies never replace it: see mimalloc.hpp, jemalloc.hpp, tcmalloc.hpp).
#pragma once

#include <new>
#include <string_view>

#include "allocators/per_node.hpp"

namespace mga {

struct NewDeleteBackend {
  static constexpr std::string_view name = "new";
  static constexpr std::string_view description =
      "operator new/delete per node, on the process allocator";
  // operator delete may run on any thread.
  static constexpr PolicyTraits traits{.frees_per_node = true, .cross_thread_release = true};

  void* allocate(std::size_t bytes) {
    ++stats_.allocations;
    stats_.bytes += bytes;
    return ::operator new(bytes);
  }
  void deallocate(void* ptr, std::size_t bytes) {
    ++stats_.frees;
    ::operator delete(ptr, bytes);
  }
  const AllocStats& stats() const { return stats_; }

 private:
  AllocStats stats_;
};

using NewDeletePolicy = PerNodePolicy<NewDeleteBackend>;

}  // namespace mga
