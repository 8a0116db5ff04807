// Policy `arena-scattered` (a layout control): the arena's bump cost, but the
// k-th node of a step goes to slot order[k] of the arena's slots, where order
// is a permutation drawn once from a fixed seed. The step's nodes then lie in
// a pseudo-random order over all of its memory, as in a fragmented heap, while
// making one is still a few instructions. Its gap to `arena` is the price of
// layout alone. The permutation is drawn again only when the arena grows (the
// first steps, up to the longest document), over all slots it has then.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

#include "core/policy.hpp"

namespace mga {

class ArenaScatteredPolicy {
 public:
  using Node = mga::Node;
  using Ref = Node*;
  static constexpr std::string_view name = "arena-scattered";
  static constexpr std::string_view description =
      "arena slots in a fixed pseudo-random order: a fragmented heap's layout, a bump's cost";
  static constexpr PolicyTraits traits{
      .single_thread_release_reason =
          "a layout control, measured with one thread: its layout is the experiment"};
  static constexpr unsigned kChunkShift = 14;  // 16384 slots (896 KiB) per chunk
  static constexpr std::size_t kSlotsPerChunk = std::size_t(1) << kChunkShift;
  static constexpr std::uint64_t kSeed = 0x9e3779b97f4a7c15;

  ArenaScatteredPolicy() = default;
  ArenaScatteredPolicy(const ArenaScatteredPolicy&) = delete;
  ArenaScatteredPolicy& operator=(const ArenaScatteredPolicy&) = delete;
  ~ArenaScatteredPolicy() {
    for (Node* chunk : chunks_) ::operator delete(chunk);
  }

  Ref make() {
    if (count_ == order_.size()) grow();
    return new (slot(order_[count_++])) Node;
  }

  void release() {
    count_ = 0;
    if (order_drawn_for_ != order_.size()) draw_order();
  }

  // Every node made since release(), newest first: the permutation backwards.
  template <class Fn>
  void for_each_node_newest_first(Fn&& fn) {
    for (std::size_t k = count_; k-- > 0;) fn(slot(order_[k]));
  }

  static Node& node(Ref ref) { return *ref; }
  static Ref borrow(Node& node) { return &node; }
  const AllocStats& stats() const { return stats_; }

 private:
  Node* slot(std::uint32_t index) const {
    return chunks_[index >> kChunkShift] + (index & (kSlotsPerChunk - 1));
  }

  // A new chunk in the middle of a step: its slots are used in an order of
  // their own until release() draws one over every slot.
  [[gnu::noinline]] void grow() {
    const std::size_t first = order_.size();
    if (first + kSlotsPerChunk > (std::size_t(1) << 32)) throw std::bad_alloc();
    chunks_.push_back(static_cast<Node*>(::operator new(kSlotsPerChunk * sizeof(Node))));
    ++stats_.allocations;
    stats_.bytes += kSlotsPerChunk * sizeof(Node);
    for (std::size_t i = 0; i < kSlotsPerChunk; ++i) order_.push_back(std::uint32_t(first + i));
    shuffle(order_.data() + first, kSlotsPerChunk);
  }

  void draw_order() {
    for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = std::uint32_t(i);
    shuffle(order_.data(), order_.size());
    order_drawn_for_ = order_.size();
  }

  // Fisher-Yates with splitmix64, from kSeed every time: the same slots give
  // the same order on every run and machine.
  static void shuffle(std::uint32_t* values, std::size_t size) {
    std::uint64_t state = kSeed;
    for (std::size_t i = size; i > 1; --i) {
      std::uint64_t z = (state += 0x9e3779b97f4a7c15);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
      z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
      z ^= z >> 31;
      std::swap(values[i - 1], values[z % i]);
    }
  }

  std::vector<Node*> chunks_;
  std::vector<std::uint32_t> order_;  // the k-th node of a step goes to slot order_[k]
  std::size_t order_drawn_for_ = 0;   // the slot count the last full draw covered
  std::size_t count_ = 0;             // nodes made since release()
  AllocStats stats_;
};

}  // namespace mga
