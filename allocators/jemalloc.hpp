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
// mimalloc's do, while no other code in the process shares its state.
#pragma once

#include <jemalloc/jemalloc.h>

#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

#include "allocators/per_node.hpp"

namespace mga {

class JemallocBackend {
 public:
  static constexpr std::string_view name = "jemalloc";
  static constexpr std::string_view description = "mallocx + sdallocx per node, own arena + tcache";
  static constexpr PolicyTraits traits{.frees_per_node = true};

  JemallocBackend() {
    std::size_t size = sizeof(arena_);
    if (mallctl("arenas.create", &arena_, &size, nullptr, 0) != 0) {
      throw std::runtime_error("jemalloc: arenas.create failed");
    }
    size = sizeof(tcache_);
    if (mallctl("tcache.create", &tcache_, &size, nullptr, 0) != 0) {
      throw std::runtime_error("jemalloc: tcache.create failed");
    }
    flags_ = MALLOCX_ARENA(arena_) | MALLOCX_TCACHE(tcache_);
  }
  JemallocBackend(const JemallocBackend&) = delete;
  JemallocBackend& operator=(const JemallocBackend&) = delete;
  ~JemallocBackend() {
    mallctl("tcache.destroy", nullptr, nullptr, &tcache_, sizeof(tcache_));
    std::string destroy = "arena." + std::to_string(arena_) + ".destroy";
    mallctl(destroy.c_str(), nullptr, nullptr, nullptr, 0);
  }

  void* allocate(std::size_t bytes) {
    ++stats_.allocations;
    stats_.bytes += bytes;
    void* memory = mallocx(bytes, flags_);
    if (memory == nullptr) throw std::bad_alloc();
    return memory;
  }
  void deallocate(void* ptr, std::size_t bytes) {
    ++stats_.frees;
    sdallocx(ptr, bytes, flags_);
  }
  unsigned arena() const { return arena_; }
  const AllocStats& stats() const { return stats_; }

 private:
  unsigned arena_ = 0;
  unsigned tcache_ = 0;
  int flags_ = 0;
  AllocStats stats_;
};

using JemallocPolicy = PerNodePolicy<JemallocBackend>;

}  // namespace mga
