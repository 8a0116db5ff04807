// Every allocation policy, in the order reports list them.
#pragma once

#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "allocators/arena.hpp"
#include "allocators/jemalloc.hpp"
#include "allocators/mimalloc.hpp"
#include "allocators/new_delete.hpp"
#include "allocators/pool.hpp"
#include "allocators/shared_ptr.hpp"

namespace mga {

using AllPolicies = std::tuple<NewDeletePolicy, SharedPtrPolicy, ArenaPolicy, PoolPolicy,
                               MimallocPolicy, MimallocHeapPolicy, JemallocPolicy>;

// Calls fn(std::type_identity<Policy>{}) for each policy in AllPolicies.
template <class Fn>
void for_each_policy(Fn&& fn) {
  [&]<class... Policy>(std::type_identity<std::tuple<Policy...>>) {
    (fn(std::type_identity<Policy>{}), ...);
  }(std::type_identity<AllPolicies>{});
}

inline std::vector<std::string> policy_names() {
  std::vector<std::string> names;
  for_each_policy([&]<class P>(std::type_identity<P>) { names.emplace_back(P::name); });
  return names;
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

}  // namespace mga
