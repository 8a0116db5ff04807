// Policy `shared_ptr`: nodes own their children through std::shared_ptr, so a
// graph is freed by reference counting the moment its last handle goes away,
// the way CPython frees Values. One allocation per node (allocate_shared puts
// the control block and the node together).
//
// Destroying a long chain naively recurses once per node and overflows the
// stack (2M nodes in bench_alloc); ~SharedNode defers children whose count is
// about to reach zero to a worklist drained by the outermost destructor.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/policy.hpp"

namespace mga {

namespace shared_ptr_detail {

template <class T>
struct CountingAllocator {
  using value_type = T;
  AllocStats* stats;
  explicit CountingAllocator(AllocStats* s) : stats(s) {}
  template <class U>
  CountingAllocator(const CountingAllocator<U>& other) : stats(other.stats) {}
  T* allocate(std::size_t n) {
    ++stats->allocations;
    stats->bytes += n * sizeof(T);
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) {
    ++stats->frees;
    std::allocator<T>{}.deallocate(p, n);
  }
  template <class U>
  bool operator==(const CountingAllocator<U>& other) const {
    return stats == other.stats;
  }
};

}  // namespace shared_ptr_detail

struct SharedNode : BasicNode<std::shared_ptr> {
  SharedNode() = default;
  SharedNode(const SharedNode&) = delete;
  SharedNode& operator=(const SharedNode&) = delete;
  ~SharedNode() {
    static thread_local std::vector<Ref> pending;
    static thread_local bool draining = false;
    for (Ref& child : children) {
      if (child.use_count() == 1) pending.push_back(std::move(child));
    }
    if (draining) return;
    draining = true;
    while (!pending.empty()) {
      Ref last = std::move(pending.back());
      pending.pop_back();
      last.reset();  // may run ~SharedNode again, which only appends to `pending`
    }
    draining = false;
  }
};

class SharedPtrPolicy {
 public:
  using Node = BasicNode<std::shared_ptr>;
  using Ref = Node::Ref;
  static constexpr std::string_view name = "shared_ptr";
  static constexpr std::string_view description =
      "std::allocate_shared per node, freed by refcount";
  static constexpr PolicyTraits traits{
      .frees_per_node = true,
      .reference_counted = true,
      .single_thread_release_reason =
          "its nodes go with their last handle, which the trainer drops: there is no batch to "
          "hand over"};

  Ref make() {
    return std::allocate_shared<SharedNode>(
        shared_ptr_detail::CountingAllocator<SharedNode>(&stats_));
  }

  // Nothing to do: the step's nodes were freed when the caller dropped the last
  // handle to them (the loss), which the training loop times as the release phase.
  void release() {}

  static Node& node(const Ref& ref) { return *ref; }
  // A handle that does not own: parameters live in the model, outside any graph.
  static Ref borrow(Node& node) { return Ref(Ref(), &node); }
  const AllocStats& stats() const { return stats_; }

 private:
  AllocStats stats_;
};

}  // namespace mga
