// Every allocation policy, in the order reports list them: the one list of
// policies. Adding a policy is its header, one #include and one entry in
// AllPolicies below (and a row in the README's table); bench_train, the
// benchmarks, the tests and the scripts take the list from here.
#pragma once

#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "allocators/arena.hpp"
#include "allocators/arena_compact.hpp"
#include "allocators/arena_scattered.hpp"
#include "allocators/jemalloc.hpp"
#include "allocators/mimalloc.hpp"
#include "allocators/new_delete.hpp"
#include "allocators/pmr_monotonic.hpp"
#include "allocators/pmr_pool.hpp"
#include "core/policy.hpp"
#include "allocators/pool.hpp"
#include "allocators/shared_ptr.hpp"
#include "allocators/tcmalloc.hpp"

namespace mga {

// One policy per line.
// clang-format off
using AllPolicies = std::tuple<NewDeletePolicy,
                               SharedPtrPolicy,
                               ArenaPolicy,
                               PoolPolicy,
                               MimallocPolicy,
                               MimallocHeapPolicy,
                               JemallocPolicy,
                               PmrMonotonicPolicy,
                               PmrPoolPolicy,
                               PmrPoolSyncPolicy,
                               TcmallocPolicy,
                               ArenaScatteredPolicy,
                               ArenaCompactPolicy>;
// clang-format on

// Calls fn(std::type_identity<Policy>{}) for each policy in AllPolicies.
template <class Fn>
constexpr void for_each_policy(Fn&& fn) {
  [&]<class... Policy>(std::type_identity<std::tuple<Policy...>>) {
    (fn(std::type_identity<Policy>{}), ...);
  }(std::type_identity<AllPolicies>{});
}

namespace registry_detail {

template <class... Policy>
constexpr bool all_satisfy_the_contract(std::tuple<Policy...>*) {
  return (AllocationPolicy<Policy> && ...);
}

// A policy that claims cross_thread_release has detach and free_batch; one that
// does not says why.
template <class... Policy>
constexpr bool cross_thread_release_is_kept(std::tuple<Policy...>*) {
  return (
      (Policy::traits.cross_thread_release
           ? ReleasesAcrossThreads<Policy> && Policy::traits.single_thread_release_reason.empty()
           : !Policy::traits.single_thread_release_reason.empty()) &&
      ...);
}

// How many policies have the trait `member`.
constexpr int count_with(bool PolicyTraits::*member) {
  int count = 0;
  for_each_policy([&]<class P>(std::type_identity<P>) { count += P::traits.*member ? 1 : 0; });
  return count;
}

}  // namespace registry_detail

static_assert(registry_detail::all_satisfy_the_contract(static_cast<AllPolicies*>(nullptr)),
              "every policy satisfies AllocationPolicy (core/policy.hpp)");
static_assert(registry_detail::cross_thread_release_is_kept(static_cast<AllPolicies*>(nullptr)),
              "cross_thread_release: detach and free_batch, else a single_thread_release_reason");
static_assert(registry_detail::count_with(&PolicyTraits::baseline) == 1,
              "exactly one policy is the baseline");
static_assert(registry_detail::count_with(&PolicyTraits::no_alloc_reference) == 1,
              "exactly one policy is the no-allocation reference");
static_assert(registry_detail::count_with(&PolicyTraits::scattered) +
                      registry_detail::count_with(&PolicyTraits::compact) ==
                  registry_detail::count_with(&PolicyTraits::control),
              "every control says what it changes: scattered or compact");

inline std::vector<std::string> policy_names() {
  std::vector<std::string> names;
  for_each_policy([&]<class P>(std::type_identity<P>) { names.emplace_back(P::name); });
  return names;
}

// The name of the one policy with the trait `member` (baseline, no_alloc_reference).
constexpr std::string_view policy_with(bool PolicyTraits::*member) {
  std::string_view name;
  for_each_policy([&]<class P>(std::type_identity<P>) {
    if (P::traits.*member) name = P::name;
  });
  return name;
}

// Calls fn(std::type_identity<Policy>{}) for the policy called `name`; false if none is.
template <class Fn>
bool with_policy(std::string_view name, Fn&& fn) {
  bool found = false;
  for_each_policy([&]<class P>(std::type_identity<P> tag) {
    if (!found && P::name == name) {
      found = true;
      fn(tag);
    }
  });
  return found;
}

namespace registry_detail {

template <bool PolicyTraits::*member, class... Policy>
struct FirstWith {
  using type = void;
};
template <bool PolicyTraits::*member, class P, class... Rest>
struct FirstWith<member, P, Rest...> {
  using type = std::conditional_t<P::traits.*member, P, typename FirstWith<member, Rest...>::type>;
};
template <bool PolicyTraits::*member, class Tuple>
struct FirstWithIn;
template <bool PolicyTraits::*member, class... Policy>
struct FirstWithIn<member, std::tuple<Policy...>> : FirstWith<member, Policy...> {};

}  // namespace registry_detail

// The policy types with the two one-of-a-kind traits.
using BaselinePolicy =
    typename registry_detail::FirstWithIn<&PolicyTraits::baseline, AllPolicies>::type;
using NoAllocReferencePolicy =
    typename registry_detail::FirstWithIn<&PolicyTraits::no_alloc_reference, AllPolicies>::type;

// The traits of the policy called `name` (all false if there is none).
inline PolicyTraits traits_of(std::string_view name) {
  PolicyTraits traits;
  with_policy(name, [&]<class P>(std::type_identity<P>) { traits = P::traits; });
  return traits;
}

}  // namespace mga
