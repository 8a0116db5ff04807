// The process-allocator axis of bench_train (--malloc): which malloc and
// operator new the whole process runs on, how a worker process gets it
// (LD_PRELOAD of a Debian library or of a user's library, or a glibc
// tunable), and the check, inside that process, that it did. This file holds
// the one list of built-in process allocators and the user allocators added
// to it (bench/user_malloc.hpp parses and verifies those).
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/enum_names.hpp"

namespace mga {

// What a process runs on when nobody preloads anything.
inline constexpr std::string_view kDefaultMalloc = "glibc";

// Where a process allocator comes from: bench_train's own list, or the user
// (--malloc NAME=PATH, a bare PATH, or a --malloc-file line). The JSON's
// "malloc_source".
enum class MallocSource { builtin, user };
inline constexpr EnumName<MallocSource> kMallocSourceNames[] = {
    {MallocSource::builtin, "builtin", "one of bench_train's own process allocators"},
    {MallocSource::user, "user", "a library given as --malloc NAME=PATH, PATH or --malloc-file"},
};
constexpr std::span<const EnumName<MallocSource>> enum_names(MallocSource) {
  return kMallocSourceNames;
}

struct ProcessMalloc {
  std::string_view name;         // the --malloc value
  std::string_view preload;      // file name put in LD_PRELOAD (a user allocator: its absolute
                                 // path); empty: glibc's own malloc
  std::string_view signature;    // a symbol only that library defines; empty for glibc and users
  std::string_view package;      // the Debian package that ships it; empty for users
  std::string_view tunables;     // GLIBC_TUNABLES for the process; empty: glibc's defaults
  std::string_view description;  // one line
  std::string (*version)();      // the library's version; null for a variant of another entry
                                 // and for users
  // Directories to look in after the usual ones (scudo: clang's runtime
  // directories, newest first); null for none.
  std::vector<std::string> (*more_directories)();
  MallocSource source;
};

// bench_train's own process allocators, in the order --malloc=all runs them (glibc first).
std::span<const ProcessMalloc> process_mallocs();
// The built-in ones, then every user allocator added, in the order added: --malloc=all's list.
std::vector<const ProcessMalloc*> all_process_mallocs();
// The built-in or user allocator called `name`, else null.
const ProcessMalloc* find_process_malloc(std::string_view name);

// A --malloc allocator that cannot be used, in one line (the caller exits 2):
// a library that is not installed (the message names the Debian package), a
// user library refused by verify_process_malloc, a malformed --malloc item or
// malloc file (bench/user_malloc.hpp). The message is kept on one line: a
// newline in a path becomes the two characters \n (bench/text.hpp's one_line).
struct MallocUnavailable : std::runtime_error {
  explicit MallocUnavailable(const std::string& message);
};

// `text` in quotes for a one-line message: at most 60 characters, control
// characters shown as '?'.
std::string quoted_for_message(std::string_view text);

// Why `name` cannot name a user allocator ("" if it can): it must be plain
// ([A-Za-z0-9._-], not starting with '.' or '-', at most 64 characters) and
// neither "all" nor a built-in's name.
std::string user_malloc_name_problem(std::string_view name);

// Adds the user allocator `name`, preloading the file at `path` (absolute;
// not checked here: verify_process_malloc does, before any run), and returns
// it; its strings live as long as the process. Adding the same name and file
// again returns the first entry. Throws MallocUnavailable if the name is not
// allowed (user_malloc_name_problem) or already names another file. Not
// thread-safe: add while parsing options, before any thread starts.
const ProcessMalloc& add_user_malloc(std::string_view name, std::string_view path);

// The absolute path of m.preload ("" for glibc), searched in the directories of
// $MGA_MALLOC_LIBRARY_PATH (colon-separated) if set and not empty, else in
// glibc's own directory, the usual library directories and m.more_directories().
// A user allocator's is its path, if that is a readable file. Throws MallocUnavailable.
std::string preload_path(const ProcessMalloc& m);

// The --malloc value that makes a worker run on `m`: its name, and for a user
// allocator NAME=PATH (the worker adds it again with that value).
std::string malloc_argument(const ProcessMalloc& m);

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
// A user allocator is told by its file instead (the same file as its path:
// device and inode, whatever the name), before any signature: a copy of a
// built-in's library added as a user allocator is that user allocator.
struct ActiveMalloc {
  std::string name;         // a ProcessMalloc name, else the file malloc resolves into
  std::string library;      // the file malloc resolves into
  std::string new_library;  // the file operator new resolves into
  MallocSource source = MallocSource::builtin;  // user: `library` is a user allocator's file
  std::string sha256;  // of `library` (JSON "malloc_sha256"), "" for glibc (JSON null)
};
ActiveMalloc active_process_malloc();

// active_process_malloc(), and if `requested` is not empty, a check that it is
// that allocator: malloc in its library (glibc: libc, fastbins as its tunable
// says; a user allocator: the same file as its path) and operator new in the
// same library or in libstdc++ (which calls malloc). Fills in `sha256` for a
// preloaded library. Throws std::runtime_error with a one-line reason if not.
ActiveMalloc checked_process_malloc(std::string_view requested);

// (library, version) for glibc and each built-in preloadable library, for the
// JSON context. Best effort and quick: "unavailable" for a library that is not
// installed, "unknown" where no version can be read.
std::vector<std::pair<std::string, std::string>> allocator_library_versions();

// The file of the loaded object that holds `address`, "?" if none does.
std::string library_of(const void* address);

// Whether the loaded library `library` itself defines `symbol` (not one of its
// dependencies).
bool library_defines(const std::string& library, std::string_view symbol);

// Whether two paths name the same file (device and inode), whatever the names.
bool same_file(const std::string& a, const std::string& b);

// Lower-case hex SHA-256 of the file at `path`, "" if it cannot be read.
std::string file_sha256(const std::string& path);

// The JSON context's entries for a process allocator a run used:
// {"malloc_<name>_path", path}, {"malloc_<name>_sha256", sha256}; none for
// glibc. Throws MallocUnavailable like preload_path.
std::vector<std::pair<std::string, std::string>> malloc_library_context(const ProcessMalloc& m);

}  // namespace mga
