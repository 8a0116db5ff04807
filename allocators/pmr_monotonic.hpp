// Policy `pmr-monotonic`: the standard library's arena. Nodes come from a
// std::pmr::monotonic_buffer_resource through a polymorphic_allocator (a
// virtual call per node, as any pmr container makes), and release() after
// every step gives everything back at once.
//
// The initial buffer is 8 MiB. The longest step of the default model (a
// document of 16 or more tokens: 135,843 nodes of 56 bytes, 7.3 MiB) fits in
// it, so in the default configuration no step asks the upstream resource
// (new_delete_resource) for anything and release() only resets a pointer: the
// same terms as `arena`, which keeps its chunks. A larger model outgrows it;
// the resource then adds buffers 1.5x larger each, from new_delete_resource,
// and release() frees them every step, which is the standard resource's own
// behaviour and what the size sweep measures. The buffer is not initialized,
// so untouched pages cost no memory.
//
// Released on another thread (bench_train --release=background), the policy
// is double-buffered: detach() hands the step's region (buffer and resource)
// over and goes on in a second one; the other thread calls release() on the
// first, which then comes back as the spare of the next detach().
#pragma once

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <new>
#include <string_view>

#include "core/policy.hpp"

namespace mga {

class PmrMonotonicPolicy {
 public:
  using Node = mga::Node;
  using Ref = Node*;
  static constexpr std::string_view name = "pmr-monotonic";
  static constexpr std::string_view description =
      "std::pmr::monotonic_buffer_resource, 8 MiB initial buffer, release() every step";
  static constexpr PolicyTraits traits{.cross_thread_release = true};
  static constexpr std::size_t kInitialBufferBytes = std::size_t(8) << 20;

  // The initial buffer and the resource on it (which cannot move: hence a pointer).
  struct Region {
    std::unique_ptr<std::byte[]> buffer =
        std::make_unique_for_overwrite<std::byte[]>(kInitialBufferBytes);
    std::pmr::monotonic_buffer_resource resource{buffer.get(), kInitialBufferBytes,
                                                 std::pmr::new_delete_resource()};
  };
  using Batch = std::unique_ptr<Region>;

  PmrMonotonicPolicy() = default;
  PmrMonotonicPolicy(const PmrMonotonicPolicy&) = delete;
  PmrMonotonicPolicy& operator=(const PmrMonotonicPolicy&) = delete;

  Ref make() {
    ++stats_.allocations;
    stats_.bytes += sizeof(Node);
    return new (std::pmr::polymorphic_allocator<Node>(resource_).allocate(1)) Node;
  }

  void release() {
    region_->resource.release();
    ++stats_.frees;
  }

  // ---- cross-thread release: double-buffered (see the top) ----
  Batch detach(Batch spare) {
    if (!spare) spare = std::make_unique<Region>();
    std::swap(region_, spare);
    resource_ = &region_->resource;
    return spare;
  }
  // On the other thread; frees is written by one thread at a time (the handover orders them).
  void free_batch(Batch& batch) {
    if (!batch) return;
    batch->resource.release();
    ++stats_.frees;
  }

  static Node& node(Ref ref) { return *ref; }
  static Ref borrow(Node& node) { return &node; }
  const AllocStats& stats() const { return stats_; }
  const std::pmr::monotonic_buffer_resource& resource() const { return region_->resource; }

 private:
  Batch region_ = std::make_unique<Region>();
  // region_'s resource, as a polymorphic_allocator holds it: the call stays virtual.
  std::pmr::memory_resource* resource_ = &region_->resource;
  AllocStats stats_;  // allocations: calls to the resource; frees: release() calls
};

}  // namespace mga
