// The part each policy plays in the study, kept apart from how it allocates
// (its PolicyTraits, core/policy.hpp): which policy every ratio divides by,
// which one is the reference without allocator work, which ones are layout
// controls, and whose allocator a policy runs. bench_train --list-allocators
// --format=json prints this table, and every run of its JSON carries the
// role's flags beside the traits (for_each_reported_trait), so that reports
// find roles without naming policies.
#pragma once

#include <span>
#include <string_view>

#include "core/enum_names.hpp"
#include "core/policy.hpp"

namespace mga {

enum class Role {
  // A strategy a user could pick: measured against the baseline.
  strategy,
  // The plain new/delete program every "vs" ratio divides by. Exactly one policy.
  baseline,
  // Forward and release carry (almost) no allocator work: the reference a
  // phase split subtracts. Exactly one policy.
  no_alloc_reference,
  // A layout control (reports show the controls apart from the strategies):
  // the reference's bump allocation with its nodes in a fixed pseudo-random
  // order over the step's slots, the layout of a fragmented heap at (almost) no
  // allocator cost. Its gap to the reference is layout alone.
  scattered_control,
  // A layout control: nodes smaller than Node, reached through 32-bit handles
  // into one store. Its gap to the reference is what a tighter layout buys.
  compact_control,
};
inline constexpr EnumName<Role> kRoleNames[] = {
    {Role::strategy, "strategy", "an allocation strategy, measured against the baseline"},
    {Role::baseline, "baseline", "the plain program every 'vs' ratio divides by"},
    {Role::no_alloc_reference, "no_alloc_reference",
     "(almost) no allocator work: the reference a phase split subtracts"},
    {Role::scattered_control, "scattered_control",
     "the reference's nodes scattered: the price of layout alone"},
    {Role::compact_control, "compact_control",
     "smaller nodes, 32-bit handles: what a tighter layout buys"},
};
constexpr std::span<const EnumName<Role>> enum_names(Role) {
  return kRoleNames;
}

// Whose allocator a policy runs: the practical answer pairs the standard
// library's policies with this project's own.
enum class Origin {
  other,             // the language's default, or an allocator library
  standard_library,  // a standard-library memory resource (std::pmr)
  hand_written,      // this project's own allocator
};
inline constexpr EnumName<Origin> kOriginNames[] = {
    {Origin::other, "other", "the language's default or an allocator library"},
    {Origin::standard_library, "standard_library",
     "a standard-library memory resource: what a program gets without writing an allocator"},
    {Origin::hand_written, "hand_written", "this project's own allocator"},
};
constexpr std::span<const EnumName<Origin>> enum_names(Origin) {
  return kOriginNames;
}

struct PolicyRole {
  std::string_view policy;  // its name
  Role role = Role::strategy;
  Origin origin = Origin::other;
};

// The policies with a role or an origin of note; any other (a new policy
// among them) is a strategy of other origin. allocators/registry.hpp checks
// that every name here is registered, once.
// clang-format off
inline constexpr PolicyRole kPolicyRoles[] = {
    {"new",             Role::baseline},
    {"arena",           Role::no_alloc_reference, Origin::hand_written},
    {"pool",            Role::strategy,           Origin::hand_written},
    {"pmr-monotonic",   Role::strategy,           Origin::standard_library},
    {"pmr-pool",        Role::strategy,           Origin::standard_library},
    {"pmr-pool-sync",   Role::strategy,           Origin::standard_library},
    {"arena-scattered", Role::scattered_control},
    {"arena-compact",   Role::compact_control},
};
// clang-format on

constexpr PolicyRole role_of(std::string_view policy) {
  for (const PolicyRole& entry : kPolicyRoles) {
    if (entry.policy == policy) return entry;
  }
  return {policy};
}

// Calls fn(key, value) for every flag of a run's "traits" object in the JSON,
// in the order reports write them: the traits of how `policy` allocates and
// the flags of its role. "thread_safe" is always false (no instance is shared
// between threads: core/policy.hpp); readers of the JSON expect the key.
template <class Fn>
void for_each_reported_trait(std::string_view policy, const PolicyTraits& traits, Fn&& fn) {
  const PolicyRole role = role_of(policy);
  const bool control = role.role == Role::scattered_control || role.role == Role::compact_control;
  fn("baseline", role.role == Role::baseline);
  fn("no_alloc_reference", role.role == Role::no_alloc_reference);
  fn("frees_per_node", traits.frees_per_node);
  fn("reference_counted", traits.reference_counted);
  fn("thread_safe", false);
  fn("cross_thread_release", traits.cross_thread_release);
  fn("control", control);
  fn("scattered", role.role == Role::scattered_control);
  fn("compact", role.role == Role::compact_control);
  fn("standard_library", role.origin == Origin::standard_library);
  fn("hand_written", role.origin == Origin::hand_written);
}

}  // namespace mga
