// Policies `pmr-pool` and `pmr-pool-sync`: the standard library's pools. Nodes
// come from a std::pmr::unsynchronized_pool_resource (or, for -sync, the
// synchronized_pool_resource that takes a lock and finds the thread's pools on
// every call), default pool_options, upstream new_delete_resource, through a
// polymorphic_allocator, and go back to it one by one at the end of the step;
// the resource keeps the freed blocks for the next step and returns its chunks
// upstream only when destroyed. -sync is measured beside the unsynchronized
// pool because its lock and its per-thread lookup cost something on every
// call, even in a single thread.
#pragma once

#include <memory_resource>
#include <string_view>

#include "allocators/per_node.hpp"

namespace mga {

template <class Resource>
class PmrPoolBackend {
 public:
  PmrPoolBackend() = default;
  PmrPoolBackend(const PmrPoolBackend&) = delete;
  PmrPoolBackend& operator=(const PmrPoolBackend&) = delete;

  void* allocate(std::size_t bytes) {
    ++stats_.allocations;
    stats_.bytes += bytes;
    return allocator_.allocate_bytes(bytes, alignof(Node));
  }
  void deallocate(void* ptr, std::size_t bytes) {
    ++stats_.frees;
    allocator_.deallocate_bytes(ptr, bytes, alignof(Node));
  }
  const AllocStats& stats() const { return stats_; }  // calls to the resource

 private:
  Resource resource_{std::pmr::new_delete_resource()};
  std::pmr::polymorphic_allocator<> allocator_{&resource_};
  AllocStats stats_;
};

struct PmrUnsynchronizedPoolBackend : PmrPoolBackend<std::pmr::unsynchronized_pool_resource> {
  static constexpr std::string_view name = "pmr-pool";
  static constexpr std::string_view description =
      "std::pmr::unsynchronized_pool_resource, nodes returned every step";
  static constexpr PolicyTraits traits{
      .frees_per_node = true,
      .single_thread_release_reason =
          "std::pmr::unsynchronized_pool_resource takes no lock: a block freed on another "
          "thread would race with the next make()"};
};

using PmrPoolPolicy = PerNodePolicy<PmrUnsynchronizedPoolBackend>;

// Thread-safe as a resource, though an instance of the policy around it still
// serves one thread at a time (core/policy.hpp). Its nodes can be freed on another thread:
// libstdc++ looks the block up in that thread's pools under a shared lock, and failing that (a
// block the other thread did not allocate) in every thread's pools under the exclusive lock.
struct PmrSynchronizedPoolBackend : PmrPoolBackend<std::pmr::synchronized_pool_resource> {
  static constexpr std::string_view name = "pmr-pool-sync";
  static constexpr std::string_view description =
      "std::pmr::synchronized_pool_resource, nodes returned every step";
  static constexpr PolicyTraits traits{.frees_per_node = true, .cross_thread_release = true};
};

using PmrPoolSyncPolicy = PerNodePolicy<PmrSynchronizedPoolBackend>;

}  // namespace mga
