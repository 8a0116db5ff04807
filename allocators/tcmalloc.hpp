// Policy `tcmalloc`: tc_malloc per node, tc_free per node at the end of the
// step: gperftools' tcmalloc (Debian's libtcmalloc_minimal.so.4) through its
// own API, the process allocator unchanged (allocators/tcmalloc_api.hpp says
// how; tests/test_allocators.cpp checks it). Small requests come from the
// calling thread's tcmalloc cache, as mimalloc's and jemalloc's do.
#pragma once

#include <string_view>

#include "allocators/malloc_free_backend.hpp"
#include "allocators/per_node.hpp"
#include "allocators/tcmalloc_api.hpp"

namespace mga {

class TcmallocBackend : public MallocFreeBackend {
 public:
  static constexpr std::string_view name = "tcmalloc";
  static constexpr std::string_view description = "tc_malloc + tc_free per node (gperftools)";
  // tc_free may run on any thread (into that thread's cache).
  static constexpr PolicyTraits traits{.frees_per_node = true, .cross_thread_release = true};

  TcmallocBackend() : MallocFreeBackend(tcmalloc_api().malloc, tcmalloc_api().free) {}
};

using TcmallocPolicy = PerNodePolicy<TcmallocBackend>;

}  // namespace mga
