// tcmalloc (gperftools, Debian's libtcmalloc_minimal.so.4) reached through its
// own API only: dlopen'ed with RTLD_LOCAL like mimalloc (see
// allocators/private_library.hpp), so its malloc, operator new, mmap and sbrk
// stay out of the global scope and glibc remains the process allocator.
// Loading it runs tcmalloc's initializer, which on glibc 2.34 and later hooks
// nothing (glibc no longer reads __malloc_hook); tests/test_allocators.cpp
// checks the process allocator after loading it. Loading it also points
// tcmalloc's log writer at one that drops its "allocation failed" line, which
// bench_train reports itself as "out of memory". One thing they still share:
// tcmalloc takes memory from the system with sbrk before mmap, so it moves the
// program break under glibc's main arena; glibc allows for such foreign sbrk
// (its heap goes on past it) and counts that memory as its own in mallinfo2.
#pragma once

#include <gperftools/malloc_extension_c.h>
#include <gperftools/tcmalloc.h>

namespace mga {

struct TcmallocApi {
  decltype(&tc_malloc) malloc;
  decltype(&tc_free) free;
  decltype(&tc_version) version;
  // kOwned if tcmalloc handed out this pointer, kNotOwned if not.
  decltype(&MallocExtension_GetOwnership) ownership;
};

// Loads libtcmalloc_minimal.so.4 on first use; throws std::runtime_error if it cannot.
const TcmallocApi& tcmalloc_api();

}  // namespace mga
