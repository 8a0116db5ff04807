// Policy `arena`: bump allocation in 1 MiB chunks, reset after every step.
// Chunks are kept, never moved, and reused from the first one on, so a step
// after the first allocates nothing from the system.
#pragma once

#include <cstddef>
#include <new>
#include <string_view>
#include <vector>

#include "allocators/policy.hpp"

namespace mga {

class ArenaPolicy {
 public:
  using Node = mga::Node;
  using Ref = Node*;
  static constexpr std::string_view name = "arena";
  static constexpr std::string_view description = "bump pointer in 1 MiB chunks, reset every step";
  static constexpr PolicyTraits traits{.no_alloc_reference = true, .hand_written = true};
  static constexpr std::size_t kNodesPerChunk = (1 << 20) / sizeof(Node);

  ArenaPolicy() = default;
  ArenaPolicy(const ArenaPolicy&) = delete;
  ArenaPolicy& operator=(const ArenaPolicy&) = delete;
  ~ArenaPolicy() {
    for (Node* chunk : chunks_) ::operator delete(chunk);
  }

  Ref make() {
    if (next_ == end_) next_chunk();
    return new (next_++) Node;
  }

  void release() {
    current_ = 0;
    next_ = end_ = nullptr;
    if (!chunks_.empty()) set_chunk(0);
  }

  // Every node made since release(), newest first: reverse creation order,
  // which is a topological order (children are always made before parents).
  template <class Fn>
  void for_each_node_newest_first(Fn&& fn) {
    if (next_ == nullptr) return;
    for (Node* node = next_; node != chunks_[current_];) fn(--node);
    for (std::size_t chunk = current_; chunk-- > 0;) {
      for (Node* node = chunks_[chunk] + kNodesPerChunk; node != chunks_[chunk];) fn(--node);
    }
  }

  static Ref borrow(Node& node) { return &node; }
  const AllocStats& stats() const { return stats_; }

 private:
  void next_chunk() {
    if (next_ != nullptr) ++current_;
    if (current_ == chunks_.size()) {
      chunks_.push_back(static_cast<Node*>(::operator new(kNodesPerChunk * sizeof(Node))));
      ++stats_.allocations;
      stats_.bytes += kNodesPerChunk * sizeof(Node);
    }
    set_chunk(current_);
  }
  void set_chunk(std::size_t index) {
    next_ = chunks_[index];
    end_ = next_ + kNodesPerChunk;
  }

  std::vector<Node*> chunks_;
  std::size_t current_ = 0;
  Node* next_ = nullptr;
  Node* end_ = nullptr;
  AllocStats stats_;
};

}  // namespace mga
