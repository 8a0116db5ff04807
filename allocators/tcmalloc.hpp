// Policy `tcmalloc`: tc_malloc per node, tc_free per node at the end of the
// step: gperftools' tcmalloc (Debian's libtcmalloc_minimal.so.4) through its
// own API, the process allocator unchanged (allocators/tcmalloc_api.hpp says
// how; tests/test_allocators.cpp checks it). Small requests come from the
// calling thread's tcmalloc cache, as mimalloc's and jemalloc's do.
#pragma once

#include <new>
#include <string_view>

#include "allocators/per_node.hpp"
#include "allocators/tcmalloc_api.hpp"
#include "allocators/tsan_annotations.hpp"

namespace mga {

class TcmallocBackend {
 public:
  static constexpr std::string_view name = "tcmalloc";
  static constexpr std::string_view description = "tc_malloc + tc_free per node (gperftools)";
  // tc_free may run on any thread (into that thread's cache).
  static constexpr PolicyTraits traits{.frees_per_node = true, .cross_thread_release = true};

  TcmallocBackend() : api_(tcmalloc_api()) {}
  TcmallocBackend(const TcmallocBackend&) = delete;
  TcmallocBackend& operator=(const TcmallocBackend&) = delete;

  void* allocate(std::size_t bytes) {
    ++stats_.allocations;
    stats_.bytes += bytes;
    void* memory = api_.malloc(bytes);
    if (memory == nullptr) throw std::bad_alloc();
    tsan_allocated(memory);
    return memory;
  }
  void deallocate(void* ptr, std::size_t /*bytes*/) {
    ++stats_.frees;
    tsan_freeing(ptr);
    api_.free(ptr);
  }
  const AllocStats& stats() const { return stats_; }

 private:
  const TcmallocApi& api_;
  AllocStats stats_;
};

using TcmallocPolicy = PerNodePolicy<TcmallocBackend>;

}  // namespace mga
