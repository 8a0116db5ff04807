// Policy `arena-compact` (a layout control): every node in one array, reached
// by a 32-bit handle instead of a pointer, so a node holds its two children in
// 8 bytes instead of 16 and takes 48 bytes instead of Node's 56. The array
// grows by realloc (a handle stays valid when it moves) and, like the arena,
// is reset after every step; the model's parameters are its first nodes and
// stay. Its gap to `arena` is what a tighter layout buys beyond allocation.
//
// A handle is the node's byte offset in the array, not its index: reaching a
// node is then one addition to the array's start (an index would need a
// multiplication by 48 as well), for up to 4 GiB of nodes (89 million).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include "core/policy.hpp"

namespace mga {

// A node's place in ArenaCompactPolicy's array: its offset in bytes.
struct CompactRef {
  std::uint32_t offset = 0;
};

template <class>
using CompactIndex = CompactRef;
using CompactNode = BasicNode<CompactIndex>;
static_assert(sizeof(CompactNode) == 48 && sizeof(CompactNode) < sizeof(Node));
static_assert(std::is_trivially_copyable_v<CompactNode>, "the array moves by realloc");

class ArenaCompactPolicy {
 public:
  using Node = CompactNode;
  using Ref = CompactRef;
  static constexpr std::string_view name = "arena-compact";
  static constexpr std::string_view description =
      "48-byte nodes in one array, 32-bit indices, reset every step";
  static constexpr PolicyTraits traits{
      .single_thread_release_reason =
          "a layout control, measured with one thread: its layout is the experiment"};
  static constexpr std::size_t kInitialNodes = (std::size_t(1) << 20) / sizeof(Node);
  static constexpr std::size_t kMaxNodes = (std::size_t(1) << 32) / sizeof(Node);

  ArenaCompactPolicy() = default;
  ArenaCompactPolicy(const ArenaCompactPolicy&) = delete;
  ArenaCompactPolicy& operator=(const ArenaCompactPolicy&) = delete;
  ~ArenaCompactPolicy() { std::free(bytes_); }

  Ref make() {
    if (count_ == capacity_) grow();
    const Ref ref = parameter(count_++);
    new (&node(ref)) Node;
    return ref;
  }

  Node& node(Ref ref) const { return *reinterpret_cast<Node*>(bytes_ + ref.offset); }

  void release() { count_ = kept_; }

  // The model's parameters: `count` nodes after those kept so far, before any
  // node of a step. Returns the index of the first.
  std::size_t keep_parameters(std::size_t count) {
    if (count_ != kept_) throw std::logic_error("arena-compact: parameters made during a step");
    const std::size_t first = kept_;
    for (std::size_t i = 0; i < count; ++i) make();
    kept_ = count_;
    return first;
  }
  Ref parameter(std::size_t index) const { return {std::uint32_t(index * sizeof(Node))}; }
  std::span<Node> parameters() const { return {nodes(), kept_}; }

  // Every node made since release(), newest first: the array backwards.
  template <class Fn>
  void for_each_node_newest_first(Fn&& fn) {
    for (std::size_t i = count_; i-- > kept_;) fn(nodes() + i);
  }

  const AllocStats& stats() const { return stats_; }

 private:
  Node* nodes() const { return reinterpret_cast<Node*>(bytes_); }

  [[gnu::noinline]] void grow() {
    const std::size_t capacity = capacity_ == 0 ? kInitialNodes : 2 * capacity_;
    if (capacity_ == kMaxNodes) throw std::bad_alloc();  // no 32-bit handle left
    const std::size_t bounded = capacity < kMaxNodes ? capacity : kMaxNodes;
    void* moved = std::realloc(bytes_, bounded * sizeof(Node));
    if (moved == nullptr) throw std::bad_alloc();
    bytes_ = static_cast<std::byte*>(moved);
    capacity_ = bounded;
    ++stats_.allocations;
    stats_.bytes += bounded * sizeof(Node);
  }

  // Bytes, not Node*: the graph stores Node pointers in its own arrays, which
  // the compiler would otherwise have to assume could overwrite this one.
  std::byte* bytes_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t count_ = 0;  // nodes alive: the kept ones, then this step's
  std::size_t kept_ = 0;   // the parameters, never released
  AllocStats stats_;
};

}  // namespace mga
