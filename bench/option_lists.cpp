#include "bench/option_lists.hpp"

#include <algorithm>

#include "bench/numbers.hpp"
#include "bench/replicas.hpp"

namespace mga {

namespace {

template <class T>
bool contains(const std::vector<T>& items, const T& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    items.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

std::string NameList::text() const {
  return all ? "all" : join_list(names);
}

std::string join_list(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ",") + item;
  return text;
}

std::optional<NameList> parse_name_list(const std::string& text,
                                        const std::vector<std::string>& valid,
                                        const std::string& what, std::string* why) {
  if (text == "all") return NameList{valid, true};
  std::string valid_names = "valid: all";
  for (const auto& name : valid) valid_names += ", " + name;
  NameList list;
  for (const std::string& name : split_list(text)) {
    if (name == "all") {
      *why = "'all' stands alone, not in a list; " + valid_names;
    } else if (!contains(valid, name)) {
      *why = "unknown " + what + " '" + name + "'; " + valid_names;
    } else if (contains(list.names, name)) {
      *why = name + " is given twice; " + valid_names;
    } else {
      list.names.push_back(name);
      continue;
    }
    return std::nullopt;
  }
  return list;
}

std::optional<std::vector<int>> parse_thread_list(const std::string& text, std::string* why) {
  if (text.empty() || text.back() == ',') {
    *why = "expected a count or a list such as 1,2,4";
    return std::nullopt;
  }
  std::vector<int> counts;
  for (const std::string& item : split_list(text)) {
    const auto count = parse_integer(item, 1, kMaxThreads, why);
    if (!count) return std::nullopt;
    if (contains(counts, int(*count))) {
      *why = std::to_string(*count) + " is given twice";
      return std::nullopt;
    }
    counts.push_back(int(*count));
  }
  return counts;
}

}  // namespace mga
