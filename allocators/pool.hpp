// Policy `pool`: a free list of node-sized slots carved from 64 KiB blocks.
// Nodes go back on the list one by one at the end of each step, so the next
// step reuses the same, already warm slots; blocks are freed only at exit.
#pragma once

#include <cstdlib>
#include <new>
#include <string_view>
#include <vector>

#include "allocators/per_node.hpp"

namespace mga {

class PoolBackend {
 public:
  static constexpr std::string_view name = "pool";
  static constexpr std::string_view description =
      "free-list object pool, nodes returned every step";
  static constexpr PolicyTraits traits{
      .frees_per_node = true,
      .single_thread_release_reason =
          "its free list takes no lock: a slot freed on another thread would race with the "
          "next make()"};
  static constexpr std::size_t kBlockBytes = 64 * 1024;

  PoolBackend() = default;
  PoolBackend(const PoolBackend&) = delete;
  PoolBackend& operator=(const PoolBackend&) = delete;
  ~PoolBackend() {
    for (void* block : blocks_) ::operator delete(block);
  }

  void* allocate(std::size_t bytes) {
    if (!free_list_) grow(bytes);
    Slot* slot = free_list_;
    free_list_ = slot->next;
    return slot;
  }
  void deallocate(void* ptr, std::size_t /*bytes*/) {
    auto* slot = static_cast<Slot*>(ptr);
    slot->next = free_list_;
    free_list_ = slot;
  }
  const AllocStats& stats() const { return stats_; }

 private:
  struct Slot {
    Slot* next;
  };

  // All requests have the same size (sizeof(Node)), fixed at the first call.
  void grow(std::size_t bytes) {
    if (slot_bytes_ == 0) slot_bytes_ = bytes < sizeof(Slot) ? sizeof(Slot) : bytes;
    auto* block = static_cast<char*>(::operator new(kBlockBytes));
    blocks_.push_back(block);
    ++stats_.allocations;
    stats_.bytes += kBlockBytes;
    // Thread the slots so that allocation walks the block in address order.
    for (std::size_t offset = kBlockBytes / slot_bytes_ * slot_bytes_; offset >= slot_bytes_;) {
      offset -= slot_bytes_;
      deallocate(block + offset, slot_bytes_);
    }
  }

  Slot* free_list_ = nullptr;
  std::size_t slot_bytes_ = 0;
  std::vector<void*> blocks_;
  AllocStats stats_;
};

using PoolPolicy = PerNodePolicy<PoolBackend>;

}  // namespace mga
