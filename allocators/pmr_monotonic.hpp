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
#pragma once

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <new>
#include <string_view>

#include "allocators/policy.hpp"

namespace mga {

class PmrMonotonicPolicy {
 public:
  using Node = mga::Node;
  using Ref = Node*;
  static constexpr std::string_view name = "pmr-monotonic";
  static constexpr std::string_view description =
      "std::pmr::monotonic_buffer_resource, 8 MiB initial buffer, release() every step";
  static constexpr PolicyTraits traits{.standard_library = true};
  static constexpr std::size_t kInitialBufferBytes = std::size_t(8) << 20;

  PmrMonotonicPolicy() = default;
  PmrMonotonicPolicy(const PmrMonotonicPolicy&) = delete;
  PmrMonotonicPolicy& operator=(const PmrMonotonicPolicy&) = delete;

  Ref make() {
    ++stats_.allocations;
    stats_.bytes += sizeof(Node);
    return new (allocator_.allocate(1)) Node;
  }

  void release() {
    resource_.release();
    ++stats_.frees;
  }

  static Ref borrow(Node& node) { return &node; }
  const AllocStats& stats() const { return stats_; }
  const std::pmr::monotonic_buffer_resource& resource() const { return resource_; }

 private:
  std::unique_ptr<std::byte[]> buffer_ =
      std::make_unique_for_overwrite<std::byte[]>(kInitialBufferBytes);
  std::pmr::monotonic_buffer_resource resource_{buffer_.get(), kInitialBufferBytes,
                                                std::pmr::new_delete_resource()};
  std::pmr::polymorphic_allocator<Node> allocator_{&resource_};
  AllocStats stats_;  // allocations: calls to the resource; frees: release() calls
};

}  // namespace mga
