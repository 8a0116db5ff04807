// Policy `new`: one operator new per node, one operator delete per node at the
// end of the step. The process allocator is glibc malloc (see mimalloc.hpp and
// jemalloc.hpp for why the other allocators never replace it).
#pragma once

#include <new>
#include <string_view>

#include "allocators/per_node.hpp"

namespace mga {

struct NewDeleteBackend {
  static constexpr std::string_view name = "new";
  static constexpr std::string_view description = "operator new/delete per node (glibc malloc)";

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
