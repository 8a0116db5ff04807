// Every allocation policy, in the order reports list them: the one list of
// policies. Adding a policy is its header, one #include and one entry in
// AllPolicies below (and a row in docs/policies.md's table; a row in
// allocators/roles.hpp only if it plays a part other than a strategy's);
// bench_train, the benchmarks, the tests and the scripts take the list from here.
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
#include "allocators/pool.hpp"
#include "allocators/roles.hpp"
#include "allocators/shared_ptr.hpp"
#include "allocators/tbbmalloc.hpp"
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
                               TbbmallocPolicy,
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

// How many policies play `role`.
constexpr int count_with(Role role) {
  int count = 0;
  for_each_policy([&]<class P>(std::type_identity<P>) { count += role_of(P::name).role == role; });
  return count;
}

// Every policy kPolicyRoles names is registered, and named once.
constexpr bool roles_name_registered_policies() {
  for (const PolicyRole& entry : kPolicyRoles) {
    int registered = 0, listed = 0;
    for_each_policy([&]<class P>(std::type_identity<P>) { registered += P::name == entry.policy; });
    for (const PolicyRole& other : kPolicyRoles) listed += other.policy == entry.policy;
    if (registered != 1 || listed != 1) return false;
  }
  return true;
}

}  // namespace registry_detail

static_assert(registry_detail::all_satisfy_the_contract(static_cast<AllPolicies*>(nullptr)),
              "every policy satisfies AllocationPolicy (core/policy.hpp)");
static_assert(registry_detail::cross_thread_release_is_kept(static_cast<AllPolicies*>(nullptr)),
              "cross_thread_release: detach and free_batch, else a single_thread_release_reason");
static_assert(registry_detail::count_with(Role::baseline) == 1,
              "exactly one policy is the baseline (allocators/roles.hpp)");
static_assert(registry_detail::count_with(Role::no_alloc_reference) == 1,
              "exactly one policy is the no-allocation reference (allocators/roles.hpp)");
static_assert(registry_detail::roles_name_registered_policies(),
              "kPolicyRoles names registered policies, each once");

inline std::vector<std::string> policy_names() {
  std::vector<std::string> names;
  for_each_policy([&]<class P>(std::type_identity<P>) { names.emplace_back(P::name); });
  return names;
}

// The name of the first policy with the trait `member` (reference_counted, ...).
constexpr std::string_view policy_with(bool PolicyTraits::*member) {
  std::string_view name;
  for_each_policy([&]<class P>(std::type_identity<P>) {
    if (name.empty() && P::traits.*member) name = P::name;
  });
  return name;
}

// The name of the first policy that plays `role` (the baseline, the reference).
constexpr std::string_view policy_with(Role role) {
  std::string_view name;
  for_each_policy([&]<class P>(std::type_identity<P>) {
    if (name.empty() && role_of(P::name).role == role) name = P::name;
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

template <Role role, class... Policy>
struct FirstWith {
  using type = void;
};
template <Role role, class P, class... Rest>
struct FirstWith<role, P, Rest...> {
  using type =
      std::conditional_t<role_of(P::name).role == role, P, typename FirstWith<role, Rest...>::type>;
};
template <Role role, class Tuple>
struct FirstWithIn;
template <Role role, class... Policy>
struct FirstWithIn<role, std::tuple<Policy...>> : FirstWith<role, Policy...> {};

}  // namespace registry_detail

// The policy types of the two one-of-a-kind roles.
using BaselinePolicy = typename registry_detail::FirstWithIn<Role::baseline, AllPolicies>::type;
using NoAllocReferencePolicy =
    typename registry_detail::FirstWithIn<Role::no_alloc_reference, AllPolicies>::type;

// The traits of the policy called `name` (all false if there is none).
inline PolicyTraits traits_of(std::string_view name) {
  PolicyTraits traits;
  with_policy(name, [&]<class P>(std::type_identity<P>) { traits = P::traits; });
  return traits;
}

}  // namespace mga
