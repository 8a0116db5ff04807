// PerNodePolicy: the shape shared by every policy that frees node by node.
// It remembers the nodes made since the last release and hands each back to
// the backend at release, the way a garbage-free C++ program would; only the
// backend (new/delete, a pool, mimalloc, jemalloc) differs.
//
// A backend whose deallocate() may run on another thread while allocate() runs
// on the owner's says so with traits.cross_thread_release; the policy then
// hands a step's record over whole (detach) and the other thread frees it node
// by node (free_batch), through deallocate_on_another_thread() where the
// backend has one (a thread-local cache it must not share), else deallocate().
#pragma once

#include <new>
#include <utility>
#include <vector>

#include "core/policy.hpp"

namespace mga {

template <class Backend>
class PerNodePolicy {
 public:
  using Node = mga::Node;
  using Ref = Node*;
  static constexpr auto name = Backend::name;
  static constexpr auto description = Backend::description;
  static constexpr PolicyTraits traits = Backend::traits;

  PerNodePolicy() = default;
  PerNodePolicy(const PerNodePolicy&) = delete;
  PerNodePolicy& operator=(const PerNodePolicy&) = delete;
  ~PerNodePolicy() { release(); }

  // The record is an array grown by hand, not push_back: a push_back the
  // compiler leaves out of line would be a call per node that has nothing to
  // do with the allocator being measured.
  Ref make() {
    Node* node = new (backend_.allocate(sizeof(Node))) Node;
    if (step_count_ == step_nodes_.size()) grow();
    step_nodes_[step_count_++] = node;
    return node;
  }

  void release() {
    for (std::size_t i = 0; i < step_count_; ++i) backend_.deallocate(step_nodes_[i], sizeof(Node));
    step_count_ = 0;
  }

  // The list kept for release() is in creation order, so Graph's
  // TopoOrder::creation can walk it instead of keeping a copy.
  template <class Fn>
  void for_each_node_newest_first(Fn&& fn) {
    for (std::size_t i = step_count_; i-- > 0;) fn(step_nodes_[i]);
  }

  // ---- cross-thread release (PolicyTraits::cross_thread_release) ----
  struct Batch {
    std::vector<Node*> nodes;  // the first `count` are the batch's
    std::size_t count = 0;
  };

  // The record changes hands: this step's goes out, the spare's (emptied by
  // free_batch) records the next step.
  Batch detach(Batch spare) requires(traits.cross_thread_release) {
    std::swap(step_nodes_, spare.nodes);
    spare.count = std::exchange(step_count_, spare.count);
    return spare;
  }

  // On the other thread. Touches the batch and the backend's thread-safe side
  // only (its frees counter is written by one thread at a time: the handover
  // orders them).
  void free_batch(Batch& batch) requires(traits.cross_thread_release) {
    for (std::size_t i = 0; i < batch.count; ++i) {
      if constexpr (requires { backend_.deallocate_on_another_thread(nullptr, 0); }) {
        backend_.deallocate_on_another_thread(batch.nodes[i], sizeof(Node));
      } else {
        backend_.deallocate(batch.nodes[i], sizeof(Node));
      }
    }
    batch.count = 0;
  }

  static Node& node(Ref ref) { return *ref; }
  static Ref borrow(Node& node) { return &node; }
  const AllocStats& stats() const { return backend_.stats(); }
  Backend& backend() { return backend_; }

 private:
  [[gnu::noinline]] void grow() { step_nodes_.resize(2 * step_nodes_.size() + 1024); }

  Backend backend_;
  std::vector<Node*> step_nodes_;  // the first step_count_ are this step's; kept across steps
  std::size_t step_count_ = 0;
};

}  // namespace mga
