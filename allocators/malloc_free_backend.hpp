// The PerNodePolicy backend of an allocator library reached through its own
// malloc and free (pointers from dlsym: allocators/private_library.hpp). It
// counts the calls, tells ThreadSanitizer that a free happens before the
// allocation that reuses the block (allocators/tsan_annotations.hpp), and turns
// a null into std::bad_alloc. A library's backend derives from it with its
// name, description and traits: tcmalloc.hpp, tbbmalloc.hpp.
#pragma once

#include <cstddef>
#include <new>

#include "allocators/tsan_annotations.hpp"
#include "core/policy.hpp"

namespace mga {

class MallocFreeBackend {
 public:
  using Malloc = void* (*)(std::size_t);
  using Free = void (*)(void*);

  MallocFreeBackend(Malloc malloc, Free free) : malloc_(malloc), free_(free) {}
  MallocFreeBackend(const MallocFreeBackend&) = delete;
  MallocFreeBackend& operator=(const MallocFreeBackend&) = delete;

  void* allocate(std::size_t bytes) {
    ++stats_.allocations;
    stats_.bytes += bytes;
    void* memory = malloc_(bytes);
    if (memory == nullptr) throw std::bad_alloc();
    tsan_allocated(memory);
    return memory;
  }
  void deallocate(void* ptr, std::size_t /*bytes*/) {
    ++stats_.frees;
    tsan_freeing(ptr);
    free_(ptr);
  }
  const AllocStats& stats() const { return stats_; }

 private:
  Malloc malloc_;
  Free free_;
  AllocStats stats_;
};

}  // namespace mga
