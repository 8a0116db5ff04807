// Each policy's memory comes from the allocator it claims, and glibc malloc
// stays the process allocator (linking mimalloc, jemalloc, tcmalloc or
// tbbmalloc's proxy would silently replace it, and the `new` policy would
// measure them instead).
//
// tests/cli/check_process_malloc.py also runs the ProcessAllocator and
// ApiPolicies tests with each process allocator of bench_train --malloc
// preloaded, MGA_TEST_PRELOADED naming the preloaded file.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <jemalloc/jemalloc.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "allocators/registry.hpp"
#include "core/graph.hpp"
#include "tests/policy_types.hpp"
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

// The library preloaded as the process allocator, or "" for none (glibc).
std::string preloaded() {
  const char* path = std::getenv("MGA_TEST_PRELOADED");
  return path == nullptr ? "" : path;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code error;
  return std::filesystem::equivalent(a, b, error);
}

// What glibc's malloc has handed out and not got back (main arena and mmap'ed
// blocks), and how far the program break lies beyond glibc's main arena.
struct GlibcCounters {
  std::ptrdiff_t in_use;
  std::ptrdiff_t foreign_break;
};
GlibcCounters glibc_counters() {
  const struct mallinfo2 info = mallinfo2();
  return {std::ptrdiff_t(info.uordblks + info.hblkhd),
          std::ptrdiff_t(reinterpret_cast<std::uintptr_t>(sbrk(0))) - std::ptrdiff_t(info.arena)};
}

// The bytes glibc's malloc handed out between two snapshots. tcmalloc takes
// memory with sbrk too; when glibc next grows its heap past such memory, it
// counts it as its own and in use, and the break beyond its arena shrinks by as
// much, which this adds back.
std::ptrdiff_t glibc_bytes_between(const GlibcCounters& before, const GlibcCounters& after) {
  return (after.in_use - before.in_use) + (after.foreign_break - before.foreign_break);
}

// The readable memory of this process when it is made (/proc/self/maps),
// adjacent mappings joined.
class ReadableMemory {
 public:
  ReadableMemory() {
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) {
      std::uintptr_t start = 0, end = 0;
      char dash = 0;
      std::string permissions;
      std::istringstream fields(line);
      fields >> std::hex >> start >> dash >> end >> permissions;
      if (!fields || permissions.empty() || permissions[0] != 'r') continue;
      if (!ranges_.empty() && ranges_.back().second == start) {
        ranges_.back().second = end;
      } else {
        ranges_.emplace_back(start, end);
      }
    }
  }
  // Whether every byte from `first` to `last` is readable.
  bool contains(std::uintptr_t first, std::uintptr_t last) const {
    for (const auto& [start, end] : ranges_)
      if (start <= first && last < end) return true;
    return false;
  }

 private:
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> ranges_;
};

// Whether tbbmalloc handed out `block`. tbbmalloc reads the start of the
// 16 KiB slab a block of its own would lie in, so it is asked only where that
// memory is readable (a foreign block just after a guard page would crash it).
bool tbbmalloc_owns(const ReadableMemory& readable, void* block) {
  constexpr std::uintptr_t kSlabBytes = 16 * 1024;
  const auto address = reinterpret_cast<std::uintptr_t>(block);
  if (!readable.contains(address & ~(kSlabBytes - 1), address)) return false;
  return tbbmalloc_api().safer_msize(block, nullptr) != 0;
}

std::uint64_t jemalloc_thread_allocated() {
  std::uint64_t bytes = 0;
  std::size_t size = sizeof(bytes);
  EXPECT_EQ(mallctl("thread.allocated", &bytes, &size, nullptr, 0), 0);
  return bytes;
}

TEST(ProcessAllocator, MallocAndNewAreGlibcAndLibstdcxx) {
  if (kUnderAsan) GTEST_SKIP() << "AddressSanitizer provides malloc in this build";
  if (!preloaded().empty()) GTEST_SKIP() << preloaded() << " is preloaded";
  void* malloc_address = dlsym(RTLD_DEFAULT, "malloc");
  void* new_address = dlsym(RTLD_DEFAULT, "_Znwm");
  EXPECT_NE(library_of(malloc_address).find("libc.so"), std::string::npos)
      << library_of(malloc_address);
  EXPECT_NE(library_of(new_address).find("libstdc++"), std::string::npos)
      << library_of(new_address);
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "mi_malloc"), nullptr)
      << "mimalloc must not be in the global scope";
}

// Run with a library preloaded: it is the process allocator, malloc and operator new.
TEST(ProcessAllocator, PreloadedLibraryIsTheProcessAllocator) {
  if (preloaded().empty()) GTEST_SKIP() << "nothing preloaded (MGA_TEST_PRELOADED)";
  for (const char* symbol : {"malloc", "free", "_Znwm", "_ZdlPv"}) {
    const std::string library = library_of(dlsym(RTLD_DEFAULT, symbol));
    EXPECT_TRUE(same_file(library, preloaded())) << symbol << " resolves into " << library;
  }
}

TEST(ProcessAllocator, PlainMallocIsNeitherMimallocNorJemalloc) {
  if (!preloaded().empty()) GTEST_SKIP() << preloaded() << " is preloaded";
  const std::uint64_t before = jemalloc_thread_allocated();
  void* block = std::malloc(1 << 20);
  auto* object = new double[64];
  EXPECT_FALSE(mimalloc_api().is_in_heap_region(block));
  EXPECT_FALSE(mimalloc_api().is_in_heap_region(object));
  EXPECT_EQ(jemalloc_thread_allocated(), before);
  delete[] object;
  std::free(block);
}

// The addresses of `count` new nodes (for policies whose Ref is a pointer, so
// that the nodes stay where they were made).
template <AllocationPolicy Policy>
std::vector<void*> make_nodes(Policy& policy, int count) {
  std::vector<void*> nodes;
  for (int i = 0; i < count; ++i) nodes.push_back(&policy.node(policy.make()));
  return nodes;
}

TEST(ProcessAllocator, PlainMallocIsNotTcmallocs) {
  if (!preloaded().empty()) GTEST_SKIP() << preloaded() << " is preloaded";
  void* block = std::malloc(64);
  auto* object = new double[8];
  EXPECT_EQ(tcmalloc_api().ownership(block), MallocExtension_kNotOwned);
  EXPECT_EQ(tcmalloc_api().ownership(object), MallocExtension_kNotOwned);
  delete[] object;
  std::free(block);
}

TEST(ProcessAllocator, PlainMallocIsNotTbbmallocs) {
  if (!preloaded().empty()) GTEST_SKIP() << preloaded() << " is preloaded";
  TbbmallocPolicy policy;  // tbbmalloc has memory of its own to tell apart
  void* node = &policy.node(policy.make());
  void* block = std::malloc(64);
  auto* object = new double[8];
  const ReadableMemory readable;
  EXPECT_TRUE(tbbmalloc_owns(readable, node));
  EXPECT_FALSE(tbbmalloc_owns(readable, block));
  EXPECT_FALSE(tbbmalloc_owns(readable, object));
  delete[] object;
  std::free(block);
}

// ---- the API policies, whatever the process allocator ----
// (check_process_malloc.py runs these with each --malloc library preloaded)

// malloc through a pointer the compiler cannot see through, so no call is elided.
void* (*volatile plain_malloc)(std::size_t) = std::malloc;

// mimalloc's nodes are in the policy's own heap. With libmimalloc preloaded,
// dlopen returns that same library: the heap is then one of the process
// allocator's mimalloc, still apart from the heap plain malloc uses.
TEST(ApiPolicies, MimallocNodesAreInThePolicysOwnHeap) {
  if (kUnderAsan) GTEST_SKIP() << "mimalloc's page map does not see its memory under ASan";
  const MimallocApi& api = mimalloc_api();
  MimallocPolicy policy;
  for (void* node : make_nodes(policy, 100))
    EXPECT_TRUE(api.heap_check_owned(policy.backend().heap(), node));
  void* block = plain_malloc(sizeof(Node));
  EXPECT_FALSE(api.heap_check_owned(policy.backend().heap(), block));
  const bool shared = same_file(library_of(reinterpret_cast<void*>(api.heap_new)), preloaded());
  EXPECT_EQ(api.is_in_heap_region(block), shared)
      << "plain malloc is mimalloc's exactly when the policy's library is the preloaded one";
  std::free(block);
}

// tcmalloc's nodes are tcmalloc's. With libtcmalloc_minimal preloaded, dlopen
// returns that same library: the policy then calls the process allocator's
// tcmalloc through tc_malloc, and plain malloc is tcmalloc's too.
TEST(ApiPolicies, TcmallocNodesAreTcmallocs) {
  const TcmallocApi& api = tcmalloc_api();
  TcmallocPolicy policy;
  for (void* node : make_nodes(policy, 100)) EXPECT_EQ(api.ownership(node), MallocExtension_kOwned);
  void* block = plain_malloc(sizeof(Node));
  const bool shared = same_file(library_of(reinterpret_cast<void*>(api.malloc)), preloaded());
  EXPECT_EQ(api.ownership(block), shared ? MallocExtension_kOwned : MallocExtension_kNotOwned);
  std::free(block);
}

// tbbmalloc's nodes are tbbmalloc's. With libtbbmalloc_proxy preloaded, the
// library the policy loads is the one under the proxy: plain malloc is
// tbbmalloc's too.
TEST(ApiPolicies, TbbmallocNodesAreTbbmallocs) {
  TbbmallocPolicy policy;
  const auto nodes = make_nodes(policy, 100);
  void* block = plain_malloc(sizeof(Node));
  const ReadableMemory readable;
  for (void* node : nodes) EXPECT_TRUE(tbbmalloc_owns(readable, node));
  const bool shared = dlsym(RTLD_DEFAULT, "__TBB_malloc_proxy") != nullptr;
  EXPECT_EQ(tbbmalloc_owns(readable, block), shared);
  std::free(block);
}

// jemalloc's nodes belong to the policy's arena of the linked private copy,
// which no plain malloc reaches, even with Debian's libjemalloc.so.2 preloaded
// (a second, separate jemalloc).
TEST(ApiPolicies, JemallocNodesAreInThePolicysOwnArena) {
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
  const std::uint64_t before_plain = jemalloc_thread_allocated();
  void* block = plain_malloc(1 << 16);
  EXPECT_EQ(jemalloc_thread_allocated(), before_plain) << "plain malloc reached the private copy";
  std::free(block);
}

// ---- every registered policy ----

// Which allocator hands out a policy's nodes: the process allocator, unless
// the policy calls a library through its own API. A new policy that does must
// be listed here, or this test fails for it.
enum class Owner { process_allocator, mimalloc, jemalloc, tcmalloc, tbbmalloc };
template <AllocationPolicy Policy>
constexpr Owner kOwner = Owner::process_allocator;
template <>
constexpr Owner kOwner<MimallocPolicy> = Owner::mimalloc;
template <>
constexpr Owner kOwner<MimallocHeapPolicy> = Owner::mimalloc;
template <>
constexpr Owner kOwner<JemallocPolicy> = Owner::jemalloc;
template <>
constexpr Owner kOwner<TcmallocPolicy> = Owner::tcmalloc;
template <>
constexpr Owner kOwner<TbbmallocPolicy> = Owner::tbbmalloc;

using testing_support::AllPolicyTypes;
using testing_support::PolicyNames;

template <class Policy>
class Identity : public ::testing::Test {};
TYPED_TEST_SUITE(Identity, AllPolicyTypes, PolicyNames);

// Nodes come from the allocator the policy claims and from no other, and using
// the policy leaves glibc the process allocator (malloc, operator new, and the
// mmap family that tcmalloc also exports).
TYPED_TEST(Identity, NodesComeFromTheirAllocatorAndGlibcStaysTheProcessAllocator) {
  if (kUnderAsan) GTEST_SKIP() << "AddressSanitizer provides malloc in this build";
  if (!preloaded().empty()) GTEST_SKIP() << preloaded() << " is preloaded";
  constexpr int kNodes = 4000;
  constexpr std::size_t kNodeBytes = kNodes * sizeof(Node);
  const MimallocApi& mimalloc = mimalloc_api();  // loaded before counting glibc's bytes
  const TcmallocApi& tcmalloc = tcmalloc_api();
  tbbmalloc_api();
  std::vector<typename TypeParam::Ref> refs;  // a shared_ptr node lives as long as its handle
  std::vector<void*> nodes;
  refs.reserve(kNodes);
  nodes.reserve(kNodes);
  const GlibcCounters glibc_before = glibc_counters();
  const std::uint64_t jemalloc_before = jemalloc_thread_allocated();
  auto policy = std::make_unique<TypeParam>();
  for (int i = 0; i < kNodes; ++i) refs.push_back(policy->make());
  for (const auto& ref : refs) nodes.push_back(&policy->node(ref));  // a store may have moved
  const std::ptrdiff_t glibc_bytes = glibc_bytes_between(glibc_before, glibc_counters());
  const std::uint64_t jemalloc_bytes = jemalloc_thread_allocated() - jemalloc_before;
  int in_mimalloc = 0, in_tcmalloc = 0, in_tbbmalloc = 0;
  const ReadableMemory readable;
  for (void* node : nodes) {
    in_mimalloc += mimalloc.is_in_heap_region(node) ? 1 : 0;
    in_tcmalloc += tcmalloc.ownership(node) == MallocExtension_kOwned ? 1 : 0;
    in_tbbmalloc += tbbmalloc_owns(readable, node) ? 1 : 0;
  }

  constexpr Owner owner = kOwner<TypeParam>;
  EXPECT_EQ(in_mimalloc, owner == Owner::mimalloc ? kNodes : 0);
  EXPECT_EQ(in_tcmalloc, owner == Owner::tcmalloc ? kNodes : 0);
  EXPECT_EQ(in_tbbmalloc, owner == Owner::tbbmalloc ? kNodes : 0);
  if (owner == Owner::jemalloc) {
    EXPECT_GE(jemalloc_bytes, kNodeBytes);
  } else {
    EXPECT_EQ(jemalloc_bytes, 0U);
  }
  if (owner == Owner::process_allocator) {
    EXPECT_GE(glibc_bytes, std::ptrdiff_t(kNodeBytes)) << "the nodes are glibc's memory";
  } else if (owner != Owner::tcmalloc) {  // tcmalloc's own sbrk would count here
    EXPECT_LT(glibc_bytes, std::ptrdiff_t(kNodeBytes / 2)) << "the nodes are not glibc's memory";
  }
  for (const char* symbol : {"malloc", "free", "mmap", "munmap"}) {
    const std::string library = library_of(dlsym(RTLD_DEFAULT, symbol));
    EXPECT_NE(library.find("libc.so"), std::string::npos) << symbol << " in " << library;
  }
  EXPECT_NE(library_of(dlsym(RTLD_DEFAULT, "_Znwm")).find("libstdc++"), std::string::npos);
  for (const char* symbol : {"mi_malloc", "mallocx", "tc_malloc", "scalable_malloc"})
    EXPECT_EQ(dlsym(RTLD_DEFAULT, symbol), nullptr) << symbol << " is in the global scope";
  refs.clear();
  policy->release();
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
