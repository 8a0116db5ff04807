// BackgroundRelease<P>: bench_train --release=background. A policy that wraps
// P and gives each step's nodes back on a second thread of its own while the
// trainer builds the next step. It is itself a policy (core/policy.hpp),
// so Trainer and Graph run on it unchanged.
//
// The hand-over is double-buffered, one batch in flight: at the end of step k,
// release() waits until the release thread has freed step k-1's batch, then
// detaches step k's nodes from P (P goes on with the freed batch as its spare)
// and passes them to the release thread. The trainer waits only when freeing
// a step takes longer than building the next; that wait is timed as its
// release phase. Only policies whose trait says cross_thread_release qualify
// (ReleasesAcrossThreads): the others are refused by bench_train.
//
// stats() first waits for the batch in flight, so the counts it returns are
// complete and read after the release thread wrote them. The last step's
// batch is freed after the training loop's clock has stopped (one step in
// --steps: the loop's time leaves it out).
#pragma once

#include <condition_variable>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

#include "core/dataset.hpp"
#include "core/policy.hpp"
#include "core/train.hpp"

namespace mga {

template <ReleasesAcrossThreads P>
class BackgroundRelease {
 public:
  using Node = typename P::Node;
  using Ref = typename P::Ref;
  static constexpr std::string_view name = P::name;
  static constexpr std::string_view description = P::description;
  static constexpr PolicyTraits traits = P::traits;

  BackgroundRelease() : releaser_([this] { release_loop(); }) {}
  BackgroundRelease(const BackgroundRelease&) = delete;
  BackgroundRelease& operator=(const BackgroundRelease&) = delete;
  ~BackgroundRelease() {
    {
      std::unique_lock lock(mutex_);
      idle_.wait(lock, [&] { return !in_flight_; });
      stopping_ = true;
    }
    work_.notify_one();
    releaser_.join();
  }

  Ref make() { return policy_.make(); }

  // The end of a step: hand its nodes to the release thread.
  void release() {
    typename P::Batch spare;
    {
      std::unique_lock lock(mutex_);
      idle_.wait(lock, [&] { return !in_flight_; });
      spare = std::move(freed_);
    }
    typename P::Batch step = policy_.detach(std::move(spare));
    {
      std::lock_guard lock(mutex_);
      pending_ = std::move(step);
      in_flight_ = true;
    }
    work_.notify_one();
  }

  template <class Fn>
  requires KnowsCreationOrder<P>
  void for_each_node_newest_first(Fn&& fn) {
    policy_.for_each_node_newest_first(std::forward<Fn>(fn));
  }

  Node& node(const Ref& ref) { return policy_.node(ref); }
  static Ref borrow(Node& node) requires BorrowsNodes<P> { return P::borrow(node); }

  const AllocStats& stats() const {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return !in_flight_; });
    return policy_.stats();
  }

 private:
  void release_loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      work_.wait(lock, [&] { return in_flight_ || stopping_; });
      if (!in_flight_) return;  // stopping, nothing left to free
      typename P::Batch batch = std::move(pending_);
      lock.unlock();
      policy_.free_batch(batch);
      lock.lock();
      freed_ = std::move(batch);
      in_flight_ = false;
      idle_.notify_all();
    }
  }

  P policy_;
  mutable std::mutex mutex_;
  mutable std::condition_variable idle_;  // in_flight_ became false
  std::condition_variable work_;          // in_flight_ or stopping_ became true
  typename P::Batch pending_;             // the batch the release thread frees next
  typename P::Batch freed_;               // freed, waiting to be the next spare
  bool in_flight_ = false;
  bool stopping_ = false;
  std::thread releaser_;  // last: it starts once everything above exists
};

// microgpt.py on the node graph with the policy called `policy`, its nodes
// given back by BackgroundRelease (bench/background_release.cpp instantiates
// it for every policy that qualifies). Throws std::invalid_argument for a
// policy that does not, with its single_thread_release_reason.
RunResult run_microgpt_background(std::string_view policy, const Dataset& data,
                                  const RunConfig& config, const LineSink& print);

}  // namespace mga
