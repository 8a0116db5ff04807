// Policy `jemalloc`: mallocx per node, sdallocx per node at the end of the step,
// on a private arena with a private explicit tcache.
//
// jemalloc is linked from a copy of Debian's libjemalloc_pic.a whose malloc,
// free, operator new, ... were renamed (scripts/jemalloc_private.sh), so glibc
// stays the process allocator; Debian's libjemalloc.so cannot be dlopen'ed
// ("cannot allocate memory in static TLS block").
//
// The tcache choice: an explicit tcache (tcache.create) serves the private
// arena, so small requests take jemalloc's thread-cache fast path, as
// mimalloc's do, while no other code in the process shares its state. An
// explicit tcache is not locked, so it must never be used by two threads at
// once: nodes freed on another thread (bench_train --release=background) go
// through a second one, that thread's own, as a thread's free goes to its own
// tcache in a program on plain jemalloc, and reach the arena when it flushes.
#pragma once

#include <jemalloc/jemalloc.h>

#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

#include "allocators/per_node.hpp"
#include "allocators/tsan_annotations.hpp"

namespace mga {

class JemallocBackend {
 public:
  static constexpr std::string_view name = "jemalloc";
  static constexpr std::string_view description = "mallocx + sdallocx per node, own arena + tcache";
  static constexpr PolicyTraits traits{.frees_per_node = true, .cross_thread_release = true};

  JemallocBackend() {
    std::size_t size = sizeof(arena_);
    if (mallctl("arenas.create", &arena_, &size, nullptr, 0) != 0) {
      throw std::runtime_error("jemalloc: arenas.create failed");
    }
    tcache_ = create_tcache();
    other_thread_tcache_ = create_tcache();
    flags_ = MALLOCX_ARENA(arena_) | MALLOCX_TCACHE(tcache_);
  }
  JemallocBackend(const JemallocBackend&) = delete;
  JemallocBackend& operator=(const JemallocBackend&) = delete;
  ~JemallocBackend() {
    // The tcaches first: destroying one flushes what it holds back to the arena.
    for (unsigned tcache : {tcache_, other_thread_tcache_})
      mallctl("tcache.destroy", nullptr, nullptr, &tcache, sizeof(tcache));
    std::string destroy = "arena." + std::to_string(arena_) + ".destroy";
    mallctl(destroy.c_str(), nullptr, nullptr, nullptr, 0);
  }

  void* allocate(std::size_t bytes) {
    ++stats_.allocations;
    stats_.bytes += bytes;
    void* memory = mallocx(bytes, flags_);
    if (memory == nullptr) throw std::bad_alloc();
    tsan_allocated(memory);
    return memory;
  }
  void deallocate(void* ptr, std::size_t bytes) {
    ++stats_.frees;
    tsan_freeing(ptr);
    sdallocx(ptr, bytes, flags_);
  }
  // The one thread that frees on the owner's behalf (see above).
  void deallocate_on_another_thread(void* ptr, std::size_t bytes) {
    ++stats_.frees;
    tsan_freeing(ptr);
    sdallocx(ptr, bytes, MALLOCX_TCACHE(other_thread_tcache_));
  }
  unsigned arena() const { return arena_; }
  const AllocStats& stats() const { return stats_; }

 private:
  static unsigned create_tcache() {
    unsigned tcache = 0;
    std::size_t size = sizeof(tcache);
    if (mallctl("tcache.create", &tcache, &size, nullptr, 0) != 0) {
      throw std::runtime_error("jemalloc: tcache.create failed");
    }
    return tcache;
  }

  unsigned arena_ = 0;
  unsigned tcache_ = 0;
  unsigned other_thread_tcache_ = 0;
  int flags_ = 0;
  AllocStats stats_;
};

using JemallocPolicy = PerNodePolicy<JemallocBackend>;

}  // namespace mga
