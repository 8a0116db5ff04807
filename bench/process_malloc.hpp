// The process-allocator axis of bench_train (--malloc): which malloc and
// operator new the whole process runs on, how a worker process gets it
// (LD_PRELOAD of a Debian library, or a glibc tunable), and the check, inside
// that process, that it did. This file holds the one list of process allocators.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mga {

// What a process runs on when nobody preloads anything.
inline constexpr std::string_view kDefaultMalloc = "glibc";

struct ProcessMalloc {
  std::string_view name;         // the --malloc value
  std::string_view preload;      // file name put in LD_PRELOAD; empty: glibc's own malloc
  std::string_view signature;    // a symbol only that library defines; empty for glibc
  std::string_view package;      // the Debian package that ships it
  std::string_view tunables;     // GLIBC_TUNABLES for the process; empty: glibc's defaults
  std::string_view description;  // one line
  std::string (*version)();      // the library's version; null for a variant of another entry
};

// Every process allocator, in the order --malloc=all runs them (glibc first).
std::span<const ProcessMalloc> process_mallocs();
const ProcessMalloc* find_process_malloc(std::string_view name);

// A preloaded library that is not installed: the message names the Debian package.
struct MallocUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The absolute path of m.preload ("" for glibc), searched in the directories of
// $MGA_MALLOC_LIBRARY_PATH (colon-separated) if set and not empty, else in
// glibc's own directory and the usual library directories. Throws MallocUnavailable.
std::string preload_path(const ProcessMalloc& m);

// NAME=value entries that make a process start on `m` (LD_PRELOAD,
// GLIBC_TUNABLES, and MGA_PROCESS_MALLOC, which says it was asked for).
std::vector<std::string> process_malloc_environment(const ProcessMalloc& m);

// Whether this process was started with process_malloc_environment(m).
bool started_with_process_malloc(const ProcessMalloc& m);

// Replaces this process with itself (/proc/self/exe, same argv) started with
// m's environment. Returns only by throwing.
[[noreturn]] void restart_with_process_malloc(const ProcessMalloc& m, char** argv);

// What this process's malloc is, found by asking the dynamic linker where
// `malloc` and `operator new` resolve (dladdr), which library that is by the
// signature symbol it defines (not by its file name, which a copy may carry
// falsely), and for glibc whether freed small blocks still go to fastbins.
struct ActiveMalloc {
  std::string name;         // a ProcessMalloc name, else the file malloc resolves into
  std::string library;      // the file malloc resolves into
  std::string new_library;  // the file operator new resolves into
};
ActiveMalloc active_process_malloc();

// active_process_malloc(), and if `requested` is not empty, a check that it is
// that allocator: malloc in its library (glibc: libc, fastbins as its tunable
// says) and operator new in the same library or in libstdc++ (which calls
// malloc). Throws std::runtime_error with a one-line reason if not.
ActiveMalloc checked_process_malloc(std::string_view requested);

// (library, version) for glibc and each preloadable library, for the JSON context.
std::vector<std::pair<std::string, std::string>> allocator_library_versions();

}  // namespace mga
