// PerNodePolicy: the shape shared by every policy that frees node by node.
// It remembers the nodes made since the last release and hands each back to
// the backend at release, the way a garbage-free C++ program would; only the
// backend (new/delete, a pool, mimalloc, jemalloc) differs.
#pragma once

#include <new>
#include <vector>

#include "core/node.hpp"

namespace mga {

template <class Backend>
class PerNodePolicy {
 public:
  using Node = mga::Node;
  using Ref = Node*;
  static constexpr auto name = Backend::name;
  static constexpr auto description = Backend::description;

  PerNodePolicy() = default;
  PerNodePolicy(const PerNodePolicy&) = delete;
  PerNodePolicy& operator=(const PerNodePolicy&) = delete;
  ~PerNodePolicy() { release(); }

  Ref make() {
    Node* node = new (backend_.allocate(sizeof(Node))) Node;
    step_nodes_.push_back(node);
    return node;
  }

  void release() {
    for (Node* node : step_nodes_) backend_.deallocate(node, sizeof(Node));
    step_nodes_.clear();
  }

  // The list kept for release() is in creation order, so Graph's
  // TopoOrder::creation can walk it instead of keeping a copy.
  template <class Fn>
  void for_each_node_newest_first(Fn&& fn) {
    for (auto it = step_nodes_.rbegin(); it != step_nodes_.rend(); ++it) fn(*it);
  }

  static Ref borrow(Node& node) { return &node; }
  const AllocStats& stats() const { return backend_.stats(); }
  Backend& backend() { return backend_; }

 private:
  Backend backend_;
  std::vector<Node*> step_nodes_;  // capacity is kept, so this allocates only while growing
};

}  // namespace mga
