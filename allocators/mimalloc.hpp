// Policies `mimalloc` and `mimalloc-heap`, both on a private mimalloc heap:
//  - mimalloc:      mi_heap_malloc_small per node, mi_free per node at the end of
//                   the step (the heap lives for the whole run);
//  - mimalloc-heap: a fresh heap per step, dropped whole by mi_heap_destroy
//                   (no per-node free: mimalloc's own arena-style reset).
#pragma once

#include <new>
#include <string_view>

#include "allocators/mimalloc_api.hpp"
#include "allocators/per_node.hpp"
#include "allocators/tsan_annotations.hpp"

namespace mga {

class MimallocBackend {
 public:
  static constexpr std::string_view name = "mimalloc";
  static constexpr std::string_view description = "mi_heap_malloc_small + mi_free per node";
  // mi_free may run on any thread: a block freed by another thread goes onto
  // its page's thread-free list, which the owning heap collects.
  static constexpr PolicyTraits traits{.frees_per_node = true, .cross_thread_release = true};

  MimallocBackend() : api_(mimalloc_api()), heap_(api_.heap_new()) {}
  MimallocBackend(const MimallocBackend&) = delete;
  MimallocBackend& operator=(const MimallocBackend&) = delete;
  ~MimallocBackend() { api_.heap_delete(heap_); }

  void* allocate(std::size_t bytes) {
    ++stats_.allocations;
    stats_.bytes += bytes;
    void* memory = api_.heap_malloc_small(heap_, bytes);
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
  mi_heap_t* heap() const { return heap_; }

 private:
  const MimallocApi& api_;
  mi_heap_t* heap_;
  AllocStats stats_;
};

using MimallocPolicy = PerNodePolicy<MimallocBackend>;

class MimallocHeapPolicy {
 public:
  using Node = mga::Node;
  using Ref = Node*;
  static constexpr std::string_view name = "mimalloc-heap";
  static constexpr std::string_view description =
      "mi_heap_malloc_small, mi_heap_destroy every step";
  static constexpr PolicyTraits traits{
      .single_thread_release_reason =
          "mi_heap_destroy and mi_heap_new must run on the thread that owns the heap"};

  MimallocHeapPolicy() : api_(mimalloc_api()), heap_(api_.heap_new()) {}
  MimallocHeapPolicy(const MimallocHeapPolicy&) = delete;
  MimallocHeapPolicy& operator=(const MimallocHeapPolicy&) = delete;
  ~MimallocHeapPolicy() { api_.heap_destroy(heap_); }

  Ref make() {
    ++stats_.allocations;
    stats_.bytes += sizeof(Node);
    void* memory = api_.heap_malloc_small(heap_, sizeof(Node));
    if (memory == nullptr) throw std::bad_alloc();
    tsan_allocated(memory);
    return new (memory) Node;
  }

  void release() {
    if constexpr (kUnderTsan) {  // every block the destroy frees (tsan_annotations.hpp)
      api_.heap_visit_blocks(
          heap_, true,
          [](const mi_heap_t*, const mi_heap_area_t*, void* block, std::size_t, void*) {
            if (block != nullptr) tsan_freeing(block);
            return true;
          },
          nullptr);
    }
    api_.heap_destroy(heap_);
    ++stats_.frees;
    heap_ = api_.heap_new();
  }

  static Node& node(Ref ref) { return *ref; }
  static Ref borrow(Node& node) { return &node; }
  const AllocStats& stats() const { return stats_; }

 private:
  const MimallocApi& api_;
  mi_heap_t* heap_;
  AllocStats stats_;
};

}  // namespace mga
