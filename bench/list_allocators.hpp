// bench_train --list-allocators: the registered policies (and, as JSON, their
// traits, their roles (allocators/roles.hpp) and the process allocators of
// --malloc), so that tests and scripts take both lists from the program
// instead of keeping copies.
#pragma once

#include <cstdio>

namespace mga {

// Text: one policy per line, its name then its description.
void print_allocator_list(std::FILE* out);

// JSON: {"policies": [{"name", "description", "traits": {...},
//                      "single_thread_release_reason", "role", "origin"}, ...],
//        "mallocs": [{"name", "description", "preload", "path", "package", "tunables"}, ...]}
// where "path" is the library LD_PRELOAD gets ("" for glibc, null if not installed).
void print_allocator_list_json(std::FILE* out);

}  // namespace mga
