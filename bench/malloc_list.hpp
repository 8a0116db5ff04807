// --malloc's list and --malloc-file, as bench_train reads and uses them: the
// items of the list are those of bench/user_malloc.hpp (a built-in's name,
// NAME=PATH or a bare PATH), split at ','; the process allocators they name
// are added to the list of process allocators (register_mallocs) and, in the
// parent, verified before any run (verify_mallocs).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/option_lists.hpp"

namespace mga {

// 'all', or items comma-separated, each once (by name), each as
// parse_malloc_spec reads it and written back as malloc_argument would (a
// built-in's name, NAME=ABSOLUTE-PATH). A name that is neither a built-in
// nor a path is kept as given when `malloc_file` (it may name one of the
// file's) and refused otherwise. nullopt and the one-line `why` if refused.
std::optional<NameList> parse_malloc_list(const std::string& text, bool malloc_file,
                                          std::string* why);

// Registers --malloc-file's libraries (if `malloc_file` is not "") and the
// list's items, and returns the names of the process allocators the run uses,
// in order: for 'all', every built-in and then every user allocator. Throws
// MallocUnavailable (one line).
std::vector<std::string> register_mallocs(const NameList& list, const std::string& malloc_file);

// verify_process_malloc of each of `names` (registered). A user library that
// does not exist, given in a list of several, is refused with a reminder that
// the list is split at every ','. Throws MallocUnavailable (one line).
void verify_mallocs(const std::vector<std::string>& names, const NameList& list);

}  // namespace mga
