// The policy contract: what core/graph.hpp asks of an allocation policy, and
// the traits by which everything else (bench_train, bench_alloc, the tests)
// tells how policies allocate without testing a policy's name or type.
//
// A policy owns the memory of the graph nodes made since its last release():
//   make()         a new, value-initialized Node, as a Ref (a pointer, a
//                  shared_ptr for the reference-counted policy, or a 32-bit
//                  handle into the policy's own store);
//   node(ref)      the Node a Ref reaches. Graph, the model and the tests reach
//                  every node through it and never assume that a Ref is a
//                  pointer; for a pointer or a shared_ptr it is *ref, which
//                  costs nothing;
//   release()      the end of a step: every node made since the last release()
//                  is given back (a reference-counted policy has nothing left to
//                  do: its nodes went with their last handle);
//   borrow(node)   a Ref to a node the policy does not own (a model parameter);
//                  a policy whose Ref can only reach its own store keeps the
//                  parameters itself instead (KeepsParameters, below);
//   stats()        the calls it made to the allocator under it (AllocStats);
//   name           what bench_train --allocator takes and reports print;
//   description    one line: how nodes are made and freed;
//   traits         a PolicyTraits (below).
// One instance serves one thread at a time: release() gives back every node
// the instance made since the last release(), so threads sharing an instance,
// each at its own point of its own step, would free each other's live nodes
// (and stats() is a plain count). bench_train --threads gives every replica
// its own instance; what replicas share is the allocator underneath.
// Optional: for_each_node_newest_first(fn) calls fn(Node*) for every node made
// since release(), newest first; Graph's TopoOrder::creation walks it instead
// of keeping its own list.
// Optional, for PolicyTraits::cross_thread_release (bench_train --release=background):
//   Batch             a step's nodes handed from the thread that made them to
//                     another one (default-constructed: an empty batch);
//   detach(spare)     on the making thread, at the end of a step instead of
//                     release(): returns every node made since the last
//                     release() or detach() as a Batch, and goes on with
//                     `spare` (an empty batch, or one free_batch() has emptied)
//                     for the next step's nodes;
//   free_batch(batch) on another thread, while the making thread goes on
//                     calling make() (one batch at a time): gives the batch's
//                     nodes back, node by node or by resetting its region, and
//                     leaves it empty, to be the spare of a later detach().
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "core/node.hpp"

namespace mga {

// How many bytes and calls a policy asked of the allocator underneath it.
struct AllocStats {
  std::uint64_t allocations = 0;  // calls that obtained memory (per node, or per chunk)
  std::uint64_t frees = 0;        // calls that returned memory
  std::uint64_t bytes = 0;        // bytes obtained
};

// How a policy allocates and frees: facts that code would otherwise infer from
// a name. (What a policy stands for in the study, the baseline or a control,
// is not how it allocates: allocators/roles.hpp keeps that.)
struct PolicyTraits {
  // Nodes are given back one at a time (per node at release, or by refcount),
  // not all at once; only such a policy can free a single node (bench_alloc's churn).
  bool frees_per_node = false;
  // Nodes are freed by reference counting when their last handle goes.
  bool reference_counted = false;
  // A step's nodes can be freed on another thread while this instance makes
  // the next step's (detach and free_batch above; bench_train
  // --release=background). When false, single_thread_release_reason says why.
  bool cross_thread_release = false;
  // Why a step's nodes must be given back on the thread that made them, for
  // the refusal; empty when cross_thread_release.
  std::string_view single_thread_release_reason = {};
};

// A policy whose Ref can point at any Node lends Refs to nodes it does not own.
template <class P>
concept BorrowsNodes = requires(typename P::Node& node) {
  { P::borrow(node) } -> std::same_as<typename P::Ref>;
};

// A policy whose Ref reaches only its own store (an index) keeps the model's
// parameters there instead: keep_parameters(count) makes `count`
// value-initialized nodes that every release() keeps and returns the index of
// the first, parameter(i) is the Ref of the i-th node kept, and parameters()
// spans all kept nodes until the next make() (a store that grows may move
// them; their Refs stay valid).
template <class P>
concept KeepsParameters = requires(P& policy, std::size_t index) {
  { policy.keep_parameters(index) } -> std::convertible_to<std::size_t>;
  { policy.parameter(index) } -> std::same_as<typename P::Ref>;
  { policy.parameters() } -> std::same_as<std::span<typename P::Node>>;
};

template <class P>
concept AllocationPolicy = std::default_initializable<P> &&
    requires(P& policy, const P& const_policy, const typename P::Ref& ref) {
  typename P::Node;
  typename P::Ref;
  { policy.make() } -> std::same_as<typename P::Ref>;
  { policy.node(ref) } -> std::same_as<typename P::Node&>;
  policy.release();
  { const_policy.stats() } -> std::convertible_to<const AllocStats&>;
  { P::name } -> std::convertible_to<std::string_view>;
  { P::description } -> std::convertible_to<std::string_view>;
  { P::traits } -> std::convertible_to<PolicyTraits>;
} &&(BorrowsNodes<P> || KeepsParameters<P>);

// The optional part of the contract.
template <class P>
concept KnowsCreationOrder = AllocationPolicy<P> &&
    requires(P& policy, void (*fn)(typename P::Node*)) {
  policy.for_each_node_newest_first(fn);
};

// The optional part for PolicyTraits::cross_thread_release.
template <class P>
concept ReleasesAcrossThreads = AllocationPolicy<P> &&
    requires(P& policy, typename P::Batch& batch) {
  requires P::traits.cross_thread_release;
  requires std::default_initializable<typename P::Batch> && std::movable<typename P::Batch>;
  { policy.detach(std::move(batch)) } -> std::same_as<typename P::Batch>;
  policy.free_batch(batch);
};

}  // namespace mga
