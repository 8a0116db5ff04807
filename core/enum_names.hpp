// The names of an enum's values, as the command line, --help, the reports and
// the JSON spell them. An enum lists them once, as a table of EnumName, and
// opts in with a function `enum_names(E)` beside it that returns the table
// (found by argument-dependent lookup); to_string, description_of and
// parse_enum then work for it.
#pragma once

#include <concepts>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace mga {

template <class Enum>
struct EnumName {
  Enum value;
  std::string_view name;
  std::string_view description;
};

template <class Enum>
concept NamedEnum = std::is_enum_v<Enum> && requires(Enum value) {
  { enum_names(value) } -> std::convertible_to<std::span<const EnumName<Enum>>>;
};

// The table's entry for `value` (its first entry if the table misses `value`).
template <NamedEnum Enum>
constexpr const EnumName<Enum>& enum_entry(Enum value) {
  const std::span<const EnumName<Enum>> names = enum_names(value);
  for (const auto& entry : names) {
    if (entry.value == value) return entry;
  }
  return names.front();
}

template <NamedEnum Enum>
constexpr std::string_view to_string(Enum value) {
  return enum_entry(value).name;
}

template <NamedEnum Enum>
constexpr std::string_view description_of(Enum value) {
  return enum_entry(value).description;
}

// The value called `name`, if one is.
template <NamedEnum Enum>
constexpr std::optional<Enum> parse_enum(std::string_view name) {
  for (const auto& entry : enum_names(Enum{})) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

}  // namespace mga
