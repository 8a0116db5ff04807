// The list values of bench_train's options: --threads (counts such as 1,2,4)
// and --allocator, --malloc (names such as a,b, or 'all'; --malloc's items:
// bench/malloc_list.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mga {

// --allocator, --malloc: 'all', or names in the order given, each once.
struct NameList {
  std::vector<std::string> names;  // in run order, 'all' spelled out
  bool all = false;                // given as 'all'
  std::string text() const;        // as the command line spells it: "all", "a" or "a,b"
  bool operator==(const NameList&) const = default;
};

// 'all' (every name of `valid`, in its order) or names of `valid`,
// comma-separated, each once. nullopt and `why` if not: "unknown WHAT 'x'",
// "x is given twice" or "'all' stands alone", each naming the valid ones.
std::optional<NameList> parse_name_list(const std::string& text,
                                        const std::vector<std::string>& valid,
                                        const std::string& what, std::string* why);

// "2" or "1,2,4": thread counts of 1 to kMaxThreads, each once. nullopt and
// `why` if not.
std::optional<std::vector<int>> parse_thread_list(const std::string& text, std::string* why);

// The items between commas, empty ones too: "a,,b" is {"a", "", "b"}.
std::vector<std::string> split_list(const std::string& text);

// "a,b" of {"a", "b"}.
std::string join_list(const std::vector<std::string>& items);

}  // namespace mga
