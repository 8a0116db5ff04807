// Parameters<Policy>: where the model's parameters live for a policy.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "core/policy.hpp"

namespace mga {

// The model's parameters: nodes that outlive every step, kept by the policy
// when it KeepsParameters, else in an array of their own and borrowed.
template <AllocationPolicy Policy>
class Parameters {
 public:
  using Node = typename Policy::Node;
  using Ref = typename Policy::Ref;

  // The Refs' array grows by push_back, not reserve(): where the process
  // allocator places a step's nodes depends on the blocks made before them, so
  // this sequence of allocations is part of what the per-node policies measure.
  Parameters(Policy& policy, std::size_t count) : policy_(policy) {
    if constexpr (KeepsParameters<Policy>) {
      first_ = policy.keep_parameters(count);
      for (std::size_t i = 0; i < count; ++i) refs_.push_back(policy.parameter(first_ + i));
    } else {
      own_.resize(count);
      for (Node& p : own_) refs_.push_back(Policy::borrow(p));  // own_ never moves
    }
  }
  Parameters(const Parameters&) = delete;  // the Refs point into own_
  Parameters& operator=(const Parameters&) = delete;

  // Valid until the policy's next make().
  std::span<Node> nodes() {
    if constexpr (KeepsParameters<Policy>) {
      return policy_.parameters().subspan(first_, refs_.size());
    } else {
      return own_;
    }
  }
  const Ref& ref(std::size_t index) const { return refs_[index]; }
  std::size_t size() const { return refs_.size(); }

 private:
  Policy& policy_;
  std::size_t first_ = 0;  // the first's index among the nodes the policy keeps
  std::vector<Node> own_;  // unless the policy keeps them
  std::vector<Ref> refs_;
};

}  // namespace mga
