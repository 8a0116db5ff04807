// Policy `tbbmalloc`: scalable_malloc per node, scalable_free per node at the
// end of the step: oneTBB's allocator (Debian's libtbbmalloc.so.2) through its
// own API. libtbbmalloc.so.2 exports no malloc (the separate
// libtbbmalloc_proxy.so.2 does, for --malloc=tbbmalloc), so loading it leaves
// glibc the process allocator; it is dlopen'ed with RTLD_LOCAL all the same,
// like mimalloc and tcmalloc (allocators/private_library.hpp), and its two
// functions are declared here, so no -dev package is needed. When
// --malloc=tbbmalloc has preloaded the proxy, dlopen returns the library the
// proxy loaded: the policy then calls the process allocator's tbbmalloc.
#pragma once

#include <cstddef>
#include <string_view>

#include "allocators/malloc_free_backend.hpp"
#include "allocators/per_node.hpp"
#include "allocators/private_library.hpp"

namespace mga {

struct TbbmallocApi {
  void* (*malloc)(std::size_t);  // scalable_malloc
  void (*free)(void*);           // scalable_free
  // __TBB_malloc_safer_msize(p, nullptr): the size of a block tbbmalloc handed
  // out, 0 for any other. It reads the start of the 16 KiB slab `p` would lie
  // in, so it may only be asked about addresses where that memory is readable
  // (tests/test_allocators.cpp checks /proc/self/maps first).
  std::size_t (*safer_msize)(void*, std::size_t (*)(void*));
};

// Loads libtbbmalloc.so.2 on first use; throws std::runtime_error if it cannot.
inline const TbbmallocApi& tbbmalloc_api() {
  static const TbbmallocApi api = [] {
    const char* soname = "libtbbmalloc.so.2";
    void* library = private_library::open(soname, "libtbbmalloc2");
    TbbmallocApi loaded{};
    private_library::load(library, soname, "scalable_malloc", loaded.malloc);
    private_library::load(library, soname, "scalable_free", loaded.free);
    private_library::load(library, soname, "__TBB_malloc_safer_msize", loaded.safer_msize);
    return loaded;  // the library stays loaded for the life of the process
  }();
  return api;
}

class TbbmallocBackend : public MallocFreeBackend {
 public:
  static constexpr std::string_view name = "tbbmalloc";
  static constexpr std::string_view description =
      "scalable_malloc + scalable_free per node (oneTBB)";
  // scalable_free may run on any thread: a block freed by a thread that does
  // not own its slab goes onto the slab's public free list.
  static constexpr PolicyTraits traits{.frees_per_node = true, .cross_thread_release = true};

  TbbmallocBackend() : MallocFreeBackend(tbbmalloc_api().malloc, tbbmalloc_api().free) {}
};

using TbbmallocPolicy = PerNodePolicy<TbbmallocBackend>;

}  // namespace mga
