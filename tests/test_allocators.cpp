// Each policy's memory comes from the allocator it claims, and glibc malloc
// stays the process allocator (linking mimalloc or jemalloc would silently
// replace it, and the `new` policy would measure them instead).
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <jemalloc/jemalloc.h>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "allocators/registry.hpp"
#include "core/graph.hpp"
#include "tests/sanitizer.hpp"

namespace mga {
namespace {

// AddressSanitizer supplies malloc itself and moves mimalloc's memory out of
// the range mi_is_in_heap_region knows, so those two checks mean nothing there.
using test::kUnderAsan;

std::string library_of(void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "?";
  return info.dli_fname;
}

std::uint64_t jemalloc_thread_allocated() {
  std::uint64_t bytes = 0;
  std::size_t size = sizeof(bytes);
  EXPECT_EQ(mallctl("thread.allocated", &bytes, &size, nullptr, 0), 0);
  return bytes;
}

TEST(ProcessAllocator, MallocAndNewAreGlibcAndLibstdcxx) {
  if (kUnderAsan) GTEST_SKIP() << "AddressSanitizer provides malloc in this build";
  void* malloc_address = dlsym(RTLD_DEFAULT, "malloc");
  void* new_address = dlsym(RTLD_DEFAULT, "_Znwm");
  EXPECT_NE(library_of(malloc_address).find("libc.so"), std::string::npos)
      << library_of(malloc_address);
  EXPECT_NE(library_of(new_address).find("libstdc++"), std::string::npos)
      << library_of(new_address);
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "mi_malloc"), nullptr)
      << "mimalloc must not be in the global scope";
}

TEST(ProcessAllocator, PlainMallocIsNeitherMimallocNorJemalloc) {
  const std::uint64_t before = jemalloc_thread_allocated();
  void* block = std::malloc(1 << 20);
  auto* object = new double[64];
  EXPECT_FALSE(mimalloc_api().is_in_heap_region(block));
  EXPECT_FALSE(mimalloc_api().is_in_heap_region(object));
  EXPECT_EQ(jemalloc_thread_allocated(), before);
  delete[] object;
  std::free(block);
}

template <class Policy>
std::vector<void*> make_nodes(Policy& policy, int count) {
  std::vector<void*> nodes;
  for (int i = 0; i < count; ++i) nodes.push_back(std::to_address(policy.make()));
  return nodes;
}

TEST(PolicyMemory, MimallocPoliciesUseMimalloc) {
  if (kUnderAsan) GTEST_SKIP() << "mi_is_in_heap_region does not see mimalloc's memory under ASan";
  MimallocPolicy per_node;
  for (void* node : make_nodes(per_node, 100)) EXPECT_TRUE(mimalloc_api().is_in_heap_region(node));
  MimallocHeapPolicy heap;
  for (void* node : make_nodes(heap, 100)) EXPECT_TRUE(mimalloc_api().is_in_heap_region(node));
}

TEST(PolicyMemory, JemallocPolicyUsesItsOwnArena) {
  const std::uint64_t before = jemalloc_thread_allocated();
  JemallocPolicy policy;
  const auto nodes = make_nodes(policy, 100);
  EXPECT_GE(jemalloc_thread_allocated() - before, 100 * sizeof(Node));
  for (void* node : nodes) {
    unsigned arena = 0;
    std::size_t size = sizeof(arena);
    ASSERT_EQ(mallctl("arenas.lookup", &arena, &size, &node, sizeof(node)), 0);
    EXPECT_EQ(arena, policy.backend().arena());
  }
}

TEST(PolicyMemory, GlibcPoliciesAvoidMimallocAndJemalloc) {
  const std::uint64_t before = jemalloc_thread_allocated();
  NewDeletePolicy new_delete;
  ArenaPolicy arena;
  PoolPolicy pool;
  for (void* node : make_nodes(new_delete, 50))
    EXPECT_FALSE(mimalloc_api().is_in_heap_region(node));
  for (void* node : make_nodes(arena, 50)) EXPECT_FALSE(mimalloc_api().is_in_heap_region(node));
  for (void* node : make_nodes(pool, 50)) EXPECT_FALSE(mimalloc_api().is_in_heap_region(node));
  EXPECT_EQ(jemalloc_thread_allocated(), before);
}

// Policies that keep memory reuse it after release: the next step's first
// node lands where the previous step's first node was.
TEST(PolicyMemory, ArenaAndPoolReuseMemoryAfterRelease) {
  ArenaPolicy arena;
  const auto first = make_nodes(arena, 40000);  // more than one chunk
  arena.release();
  EXPECT_EQ(make_nodes(arena, 1)[0], first[0]);
  const auto chunks = arena.stats().allocations;
  arena.release();
  make_nodes(arena, 40000);
  EXPECT_EQ(arena.stats().allocations, chunks) << "the second step must not allocate chunks";

  PoolPolicy pool;
  const auto used = make_nodes(pool, 1000);
  pool.release();
  const std::set<void*> used_set(used.begin(), used.end());
  for (void* node : make_nodes(pool, 1000)) EXPECT_TRUE(used_set.count(node));
}

TEST(PolicyMemory, StatsCountUnderlyingCalls) {
  NewDeletePolicy policy;
  make_nodes(policy, 10);
  EXPECT_EQ(policy.stats().allocations, 10U);
  EXPECT_EQ(policy.stats().bytes, 10 * sizeof(Node));
  policy.release();
  EXPECT_EQ(policy.stats().frees, 10U);

  SharedPtrPolicy shared;
  { auto node = shared.make(); }
  EXPECT_EQ(shared.stats().allocations, 1U);
  EXPECT_GT(shared.stats().bytes, sizeof(SharedPtrPolicy::Node));  // control block included
  EXPECT_EQ(shared.stats().frees, 1U);
}

}  // namespace
}  // namespace mga
