#include "bench/malloc_list.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "bench/user_malloc.hpp"

namespace mga {

namespace {

// The name an item gives its allocator (NAME of NAME=PATH).
std::string name_of(const std::string& item) {
  return item.substr(0, item.find('='));
}

}  // namespace

std::optional<NameList> parse_malloc_list(const std::string& text, bool malloc_file,
                                          std::string* why) {
  if (text == "all") {
    NameList all{{}, true};
    for (const auto& m : process_mallocs()) all.names.emplace_back(m.name);
    return all;
  }
  NameList list;
  try {
    for (const std::string& item : split_list(text)) {
      std::string written = item;
      if (item == "all") {
        throw MallocUnavailable("--malloc: 'all' stands alone, not in a list; " +
                                valid_malloc_items());
      }
      try {
        const MallocSpec spec = parse_malloc_spec(item);
        written = spec.path.empty() ? spec.name : spec.name + "=" + spec.path;
      } catch (const MallocUnavailable&) {
        // Perhaps a name of the malloc file, which is read later (register_mallocs).
        if (!malloc_file || !user_malloc_name_problem(item).empty()) throw;
      }
      const auto same_name = [&](const std::string& other) {
        return name_of(other) == name_of(written);
      };
      if (std::any_of(list.names.begin(), list.names.end(), same_name)) {
        throw MallocUnavailable("--malloc: " + name_of(written) + " is given twice; " +
                                valid_malloc_items());
      }
      list.names.push_back(written);
    }
  } catch (const MallocUnavailable& e) {
    *why = e.what();
    return std::nullopt;
  }
  return list;
}

std::vector<std::string> register_mallocs(const NameList& list, const std::string& malloc_file) {
  if (!malloc_file.empty()) register_malloc_file(malloc_file);
  std::vector<std::string> names;
  if (list.all) {
    for (const ProcessMalloc* m : all_process_mallocs()) names.emplace_back(m->name);
    return names;
  }
  for (const std::string& item : list.names) names.emplace_back(register_malloc_item(item).name);
  return names;
}

void verify_mallocs(const std::vector<std::string>& names, const NameList& list) {
  for (const std::string& name : names) {
    const ProcessMalloc& m = *find_process_malloc(name);
    try {
      verify_process_malloc(m);
    } catch (const MallocUnavailable& e) {
      struct stat status {};
      const bool missing =
          m.source == MallocSource::user && stat(std::string(m.preload).c_str(), &status) != 0;
      if (!missing || list.all || list.names.size() < 2) throw;
      throw MallocUnavailable(std::string(e.what()) +
                              " (the --malloc list is split at every ','; a path cannot hold one)");
    }
  }
}

}  // namespace mga
