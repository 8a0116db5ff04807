// The scalar autograd node: microgpt.py's Value with its two tuples flattened
// into fixed arrays (every op has one or two children).
#pragma once

#include <cstdint>

namespace mga {

// Ptr is how a node holds its children: a raw pointer for policies that free
// memory in bulk or by their own bookkeeping, std::shared_ptr for the policy
// that frees by reference count as CPython does.
template <template <class> class Ptr>
struct BasicNode {
  using Ref = Ptr<BasicNode>;

  double data = 0.0;
  double grad = 0.0;
  Ref children[2]{};
  double local_grads[2]{};
  std::uint16_t n_children = 0;
  std::uint16_t leaf_children = 0;  // bit j: children[j] is a leaf, so the DFS need not visit it
  std::uint32_t visit_epoch = 0;    // == Graph's epoch when visited by the current topo sort
};

template <class T>
using RawPtr = T*;

using Node = BasicNode<RawPtr>;

}  // namespace mga
