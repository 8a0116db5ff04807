// The Policy contract: what core/graph.hpp asks of an allocation policy, and
// the traits by which everything else (bench_train's report, bench_alloc, the
// tests) tells policies apart, so that nothing outside allocators/ tests a
// policy's name or type.
//
// A policy owns the memory of the graph nodes made since its last release():
//   make()         a new, value-initialized Node, as a Ref (a pointer, or a
//                  shared_ptr for the reference-counted policy);
//   release()      the end of a step: every node made since the last release()
//                  is given back (a reference-counted policy has nothing left to
//                  do: its nodes went with their last handle);
//   borrow(node)   a Ref to a node the policy does not own (a model parameter);
//   stats()        the calls it made to the allocator under it (AllocStats);
//   name           what bench_train --allocator takes and reports print;
//   description    one line: how nodes are made and freed;
//   traits         a PolicyTraits (below).
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
#include <string_view>
#include <utility>

#include "core/node.hpp"

namespace mga {

// Per-policy facts that code would otherwise infer from a name. bench_train
// writes them, under these names, into every run of its JSON.
struct PolicyTraits {
  // The plain new/delete program every "vs" ratio divides by. Exactly one policy.
  bool baseline = false;
  // The policy whose forward and release carry (almost) no allocator work: the
  // reference a phase split subtracts. Exactly one policy.
  bool no_alloc_reference = false;
  // Nodes are given back one at a time (per node at release, or by refcount),
  // not all at once; only such a policy can free a single node (bench_alloc's churn).
  bool frees_per_node = false;
  // Nodes are freed by reference counting when their last handle goes.
  bool reference_counted = false;
  // One instance may be used from several threads at once. None is, and under
  // this contract none can be: release() gives back every node the instance
  // made since the last release(), so threads sharing an instance, each at its
  // own point of its own step, would free each other's live nodes (and each
  // policy counts its calls in a plain AllocStats). So bench_train --threads
  // gives every replica its own instance; what replicas share is the allocator
  // underneath (glibc's arenas, tcmalloc's central lists, the process-wide
  // state of mimalloc and jemalloc).
  bool thread_safe = false;
  // A step's nodes can be freed on another thread while this instance makes
  // the next step's (detach and free_batch above; bench_train
  // --release=background). When false, single_thread_release_reason says why.
  bool cross_thread_release = false;
  // A layout-control policy rather than an allocator (none yet).
  bool control = false;
  // Nodes come from a standard-library memory resource (std::pmr): what a
  // C++ program gets without writing an allocator.
  bool standard_library = false;
  // The allocator is this project's own code (not a library): what writing an
  // allocator buys, next to the standard library's and the drop-ins.
  bool hand_written = false;
  // Not a flag (for_each_trait leaves it out): why a step's nodes must be given
  // back on the thread that made them, for the refusal; empty when
  // cross_thread_release.
  std::string_view single_thread_release_reason = {};
};

// Calls fn(key, value) for each trait, in the order reports write them.
template <class Fn>
void for_each_trait(const PolicyTraits& traits, Fn&& fn) {
  fn("baseline", traits.baseline);
  fn("no_alloc_reference", traits.no_alloc_reference);
  fn("frees_per_node", traits.frees_per_node);
  fn("reference_counted", traits.reference_counted);
  fn("thread_safe", traits.thread_safe);
  fn("cross_thread_release", traits.cross_thread_release);
  fn("control", traits.control);
  fn("standard_library", traits.standard_library);
  fn("hand_written", traits.hand_written);
}

template <class P>
concept AllocationPolicy = std::default_initializable<P> &&
    requires(P& policy, const P& const_policy, typename P::Node& node) {
  typename P::Ref;
  { policy.make() } -> std::same_as<typename P::Ref>;
  policy.release();
  { P::borrow(node) } -> std::same_as<typename P::Ref>;
  { const_policy.stats() } -> std::convertible_to<const AllocStats&>;
  { P::name } -> std::convertible_to<std::string_view>;
  { P::description } -> std::convertible_to<std::string_view>;
  { P::traits } -> std::convertible_to<PolicyTraits>;
};

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
