// Policy `arena`: bump allocation in 1 MiB chunks, reset after every step.
// Chunks are kept, never moved, and reused from the first one on, so a step
// after the first allocates nothing from the system.
//
// Released on another thread (bench_train --release=background), the arena is
// double-buffered: detach() hands the step's chunks over and goes on in a
// second set, and the first comes back as the spare of the next detach(). A
// bump region is reset by moving its pointer back, so the other thread has
// nothing to free; the price is a second set of chunks, and its cache misses.
#pragma once

#include <cstddef>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

#include "core/policy.hpp"

namespace mga {

class ArenaPolicy {
 public:
  using Node = mga::Node;
  using Ref = Node*;
  static constexpr std::string_view name = "arena";
  static constexpr std::string_view description = "bump pointer in 1 MiB chunks, reset every step";
  static constexpr PolicyTraits traits{.cross_thread_release = true};
  static constexpr std::size_t kNodesPerChunk = (1 << 20) / sizeof(Node);

  // A set of chunks, which it owns.
  struct Chunks {
    Chunks() = default;
    Chunks(Chunks&& other) noexcept : list(std::exchange(other.list, {})) {}
    Chunks& operator=(Chunks&& other) noexcept {
      list.swap(other.list);  // `other` frees what this held
      return *this;
    }
    ~Chunks() {
      for (Node* chunk : list) ::operator delete(chunk);
    }
    std::vector<Node*> list;
  };
  using Batch = Chunks;

  ArenaPolicy() = default;
  ArenaPolicy(const ArenaPolicy&) = delete;
  ArenaPolicy& operator=(const ArenaPolicy&) = delete;

  Ref make() {
    if (next_ == end_) next_chunk();
    return new (next_++) Node;
  }

  void release() { rewind(); }

  // Every node made since release(), newest first: reverse creation order,
  // which is a topological order (children are always made before parents).
  template <class Fn>
  void for_each_node_newest_first(Fn&& fn) {
    if (next_ == nullptr) return;
    for (Node* node = next_; node != chunks_.list[current_];) fn(--node);
    for (std::size_t chunk = current_; chunk-- > 0;) {
      for (Node* node = chunks_.list[chunk] + kNodesPerChunk; node != chunks_.list[chunk];)
        fn(--node);
    }
  }

  // ---- cross-thread release: double-buffered (see the top) ----
  Batch detach(Batch spare) {
    std::swap(chunks_, spare);
    rewind();
    return spare;
  }
  void free_batch(Batch& /*batch*/) {}  // its chunks are reused as they are

  static Node& node(Ref ref) { return *ref; }
  static Ref borrow(Node& node) { return &node; }
  const AllocStats& stats() const { return stats_; }

 private:
  void rewind() {
    current_ = 0;
    next_ = end_ = nullptr;
    if (!chunks_.list.empty()) set_chunk(0);
  }
  void next_chunk() {
    if (next_ != nullptr) ++current_;
    if (current_ == chunks_.list.size()) {
      chunks_.list.push_back(static_cast<Node*>(::operator new(kNodesPerChunk * sizeof(Node))));
      ++stats_.allocations;
      stats_.bytes += kNodesPerChunk * sizeof(Node);
    }
    set_chunk(current_);
  }
  void set_chunk(std::size_t index) {
    next_ = chunks_.list[index];
    end_ = next_ + kNodesPerChunk;
  }

  Chunks chunks_;
  std::size_t current_ = 0;
  Node* next_ = nullptr;
  Node* end_ = nullptr;
  AllocStats stats_;
};

}  // namespace mga
