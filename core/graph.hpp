// Graph<Policy>: builds Value nodes exactly as microgpt.py does and runs its
// backward pass. Every node is obtained from the allocation policy; the graph
// itself never frees anything, so the policy alone decides allocation cost.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/enum_names.hpp"
#include "core/node.hpp"
#include "core/ops.hpp"
#include "core/policy.hpp"
#include "core/python_pow.hpp"

namespace mga {

enum class TopoOrder {
  dfs,       // microgpt.py's DFS post-order, visited marks kept in the nodes
  hashset,   // the same DFS with microgpt.py's visited set (an unordered_set)
  creation,  // reverse creation order: no sort (children are always older than parents)
};

inline constexpr EnumName<TopoOrder> kTopoOrderNames[] = {
    {TopoOrder::dfs, "dfs", "microgpt.py's DFS, marks in nodes"},
    {TopoOrder::hashset, "hashset", "the DFS with a visited set, as microgpt.py"},
    {TopoOrder::creation, "creation", "reverse creation order: no sort, same bits"},
};
constexpr std::span<const EnumName<TopoOrder>> enum_names(TopoOrder) {
  return kTopoOrderNames;
}

template <AllocationPolicy Policy>
class Graph {
 public:
  using Node = typename Policy::Node;
  using Ref = typename Policy::Ref;

  explicit Graph(Policy& policy, TopoOrder topo = TopoOrder::dfs) : policy_(policy), topo_(topo) {}

  // The node a handle reaches: the one way to it (a Ref need not be a pointer).
  Node& node(const Ref& ref) const { return policy_.node(ref); }

  // Value(x): a leaf. microgpt.py makes one for every Python number that meets a
  // Value (`x + 1e-5`, `x * -1`, `0 + x` in sum()), so they are real nodes here too.
  Ref constant(double x) { return make(x, 0, nullptr, nullptr); }

  // ---- the ops of microgpt.py's Value (core/ops.hpp), one node each ----
  Ref add(const Ref& a, const Ref& b) { return binary<ops::Add>(a, b); }
  Ref mul(const Ref& a, const Ref& b) { return binary<ops::Mul>(a, b); }
  Ref pow(const Ref& a, double exponent) { return unary(ops::Pow{exponent}, a); }
  Ref log(const Ref& a) { return unary(ops::Log{}, a); }
  Ref exp(const Ref& a) { return unary(ops::Exp{}, a); }
  Ref relu(const Ref& a) { return unary(ops::Relu{}, a); }

  // ---- Python operators that desugar into the ops above ----
  Ref add(const Ref& a, double c) { return add(a, constant(c)); }     // a + c
  Ref mul(const Ref& a, double c) { return mul(a, constant(c)); }     // a * c, c * a
  Ref neg(const Ref& a) { return mul(a, -1.0); }                      // -a is a * -1
  Ref sub(const Ref& a, double c) { return add(a, -c); }              // a - c is a + (-c)
  Ref div(const Ref& a, const Ref& b) { return mul(a, pow(b, -1)); }  // a / b is a * b**-1
  Ref div(const Ref& a, double c) { return mul(a, python_pow(c, -1.0)); }

  // sum(xs): Python starts from int 0, and `0 + x0` becomes `x0 + Value(0)`.
  Ref sum(std::span<const Ref> xs) {
    Ref total = add(xs[0], 0.0);
    for (std::size_t i = 1; i < xs.size(); ++i) total = add(total, xs[i]);
    return total;
  }

  // loss.backward(): topological order by DFS from the root, then the chain
  // rule in reverse order. Iterative, so a 2M-node chain cannot overflow the stack.
  // With TopoOrder::creation every node made since release() is walked newest
  // first instead, reachable from the root or not (unreachable ones carry grad 0).
  void backward(const Ref& root) {
    node(root).grad = 1.0;
    auto propagate = [this](Node* v) {
      for (std::uint32_t j = 0; j < v->n_children; ++j) {
        node(v->children[j]).grad += v->local_grads[j] * v->grad;
      }
    };
    if (topo_ == TopoOrder::creation) {
      if constexpr (kPolicyKnowsCreationOrder) {
        policy_.for_each_node_newest_first(propagate);  // the policy's own record of its nodes
      } else {
        for (auto it = created_.rbegin(); it != created_.rend(); ++it) propagate(&node(*it));
      }
      return;
    }
    build_topo(&node(root));
    for (std::size_t i = topo_size_; i-- > 0;) propagate(topo_order_[i]);
  }

  // The end of a step (or sample): the policy frees every node made since the
  // last release. No handle to those nodes may be used afterwards.
  void release() {
    created_.clear();
    policy_.release();
  }

  std::uint64_t nodes_created() const { return nodes_created_; }
  // The last sort's order, children first (leaves left out with TopoOrder::dfs).
  std::span<Node* const> last_topo_order() const { return {topo_order_.data(), topo_size_}; }

 private:
  static constexpr bool kPolicyKnowsCreationOrder = KnowsCreationOrder<Policy>;

  template <class Op>
  Ref unary(const Op& op, const Ref& a) {
    const double x = node(a).data;
    const double out = op.value(x);
    const double grads[1] = {op.local_grad(x, out)};
    return make(out, 1, &a, grads);
  }
  template <class Op>
  Ref binary(const Ref& a, const Ref& b) {
    const double x = node(a).data, y = node(b).data;
    const Ref kids[2] = {a, b};
    const std::array<double, 2> grads = Op::local_grads(x, y);
    return make(Op::value(x, y), 2, kids, grads.data());
  }

  Ref make(double data, std::uint32_t n_children, const Ref* kids, const double* grads) {
    Ref ref = policy_.make();
    Node& made = node(ref);
    made.data = data;
    made.n_children = n_children;
    for (std::uint32_t i = 0; i < n_children; ++i) {
      made.children[i] = kids[i];
      made.local_grads[i] = grads[i];
      if (node(kids[i]).n_children == 0) made.leaf_children |= std::uint16_t(1u << i);
    }
    ++nodes_created_;
    if constexpr (!kPolicyKnowsCreationOrder) {
      if (topo_ == TopoOrder::creation) created_.push_back(ref);
    }
    return ref;
  }

  // Python: visited.add(v); for child in v._children: build_topo(child); topo.append(v)
  void build_topo(Node* root) {
    ++epoch_;
    if (topo_ == TopoOrder::hashset) {
      visited_.clear();
      depth_first<true>(root, [&](Node* v) { return visited_.insert(v).second; });
    } else {
      depth_first<false>(root, [&](Node* v) {
        if (v->visit_epoch == epoch_) return false;
        v->visit_epoch = epoch_;
        return true;
      });
    }
  }

  // Post-order DFS with an explicit stack, so a 2M-node chain cannot overflow
  // the call stack. first_visit(v) marks v and says whether it was unseen.
  // Unless VisitLeaves, a leaf is skipped without being read (its parent's
  // leaf_children bit tells): the chain rule never propagates from a leaf, so
  // leaving leaves out of the order changes no bit of any gradient.
  // The stack and the order are arrays grown by hand, so that nothing but a
  // compare and a store stays in this, the hottest loop of the program (a
  // push_back the compiler leaves out of line is a call per node).
  template <bool VisitLeaves, class FirstVisit>
  void depth_first(Node* root, FirstVisit&& first_visit) {
    // Local copies of the arrays' pointers: the compiler cannot prove that the
    // stores below leave the vectors' own pointers alone.
    Frame* stack = stack_.data();
    Node** order = topo_order_.data();
    std::size_t depth = 0;
    std::size_t count = 0;
    auto push = [&](Node* v) {
      if (depth == stack_.size()) stack = (stack_.resize(2 * depth + 64), stack_.data());
      stack[depth++] = {v, 0};
    };
    auto emit = [&](Node* v) {
      if (count == topo_order_.size())
        order = (topo_order_.resize(2 * count + 64), topo_order_.data());
      order[count++] = v;
    };
    first_visit(root);
    push(root);
    while (depth > 0) {
      auto& [v, next_child] = stack[depth - 1];
      Node* descend = nullptr;
      while (next_child < v->n_children) {
        const std::uint32_t j = next_child++;
        if (!VisitLeaves && (v->leaf_children >> j & 1)) continue;
        Node* child = &node(v->children[j]);
        if (!first_visit(child)) continue;
        if (VisitLeaves && child->n_children == 0) {
          emit(child);  // a leaf is finished the moment it is seen
          continue;
        }
        descend = child;
        break;
      }
      if (descend != nullptr) {
        push(descend);
      } else {
        emit(v);
        --depth;
      }
    }
    topo_size_ = count;
  }

  Policy& policy_;
  TopoOrder topo_;
  std::uint64_t nodes_created_ = 0;
  std::uint32_t epoch_ = 0;
  std::vector<Node*> topo_order_;  // the first topo_size_ entries are the last sort's order
  std::size_t topo_size_ = 0;
  // Only for TopoOrder::creation. Handles, not raw pointers: with shared_ptr a
  // node nobody else holds (an unused probability) must live until backward.
  std::vector<Ref> created_;
  struct Frame {
    Node* node;
    std::uint32_t next_child;
  };
  std::vector<Frame> stack_;
  std::unordered_set<Node*> visited_;
};

}  // namespace mga
