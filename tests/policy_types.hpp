// Every registered policy as a GoogleTest type list, named by the policy's
// name, for TYPED_TEST_SUITE: one copy for all the typed tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "allocators/registry.hpp"

namespace mga::testing_support {

template <class Tuple>
struct AsTypes;
template <class... P>
struct AsTypes<std::tuple<P...>> {
  using type = ::testing::Types<P...>;
};

using AllPolicyTypes = AsTypes<AllPolicies>::type;

class PolicyNames {
 public:
  template <class P>
  static std::string GetName(int) {
    return std::string(P::name);
  }
};

}  // namespace mga::testing_support
