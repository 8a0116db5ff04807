// mimalloc reached through its own API only.
//
// Debian ships mimalloc as a shared library that exports malloc, free and
// operator new: linking it would make it the allocator of the whole process
// (and of the `new` policy). So it is dlopen'ed with RTLD_LOCAL, which keeps its
// symbols out of the global scope, and called through these pointers
// (allocators/private_library.hpp). When bench_train --malloc=mimalloc has
// preloaded the same library, dlopen returns that one: the policies then get
// heaps of their own inside the process allocator's mimalloc.
#pragma once

#include <mimalloc.h>

namespace mga {

struct MimallocApi {
  decltype(&mi_heap_new) heap_new;
  decltype(&mi_heap_delete) heap_delete;
  decltype(&mi_heap_destroy) heap_destroy;
  decltype(&mi_heap_malloc_small) heap_malloc_small;
  decltype(&mi_heap_check_owned) heap_check_owned;
  decltype(&mi_heap_visit_blocks) heap_visit_blocks;
  decltype(&mi_free) free;
  decltype(&mi_is_in_heap_region) is_in_heap_region;
  decltype(&mi_version) version;
};

// Loads libmimalloc.so.2 on first use; throws std::runtime_error if it cannot.
const MimallocApi& mimalloc_api();

}  // namespace mga
