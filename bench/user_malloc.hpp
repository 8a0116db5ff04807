// Bring your own process allocator (issue 23): a --malloc item that names a
// library instead of a built-in (NAME=PATH, or a bare PATH), and --malloc-file
// files of such libraries. Each is added to the list of process allocators
// (add_user_malloc, bench/process_malloc.hpp) and verified before any run:
// the file must be a readable regular file that loads, exports malloc, and is
// where malloc resolves when it is preloaded. That is found out by a probe, a
// child of this program started with the library in LD_PRELOAD, because
// ld.so only warns about a preload it cannot load and goes on without it.
//
// Every refusal is a MallocUnavailable with one line (the caller exits 2).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/process_malloc.hpp"

namespace mga {

// One --malloc item or malloc-file line, parsed.
struct MallocSpec {
  std::string name;
  std::string path;  // absolute; empty: `name` is a built-in (or "all")
};

// An item of --malloc: "all", a built-in's name, NAME=PATH, or a bare PATH (an
// item with a '/', or whose file name has ".so"): its name is the file name
// without "lib" and from ".so" on (/opt/libfoo.so.2: foo). A relative path is
// taken from the working directory. Refused: an unknown name (the message
// lists the valid ones), a name that is not allowed (user_malloc_name_problem),
// an empty path, a path with ':' or white space (LD_PRELOAD's separators) or
// with ',' (--malloc's list separator).
MallocSpec parse_malloc_spec(std::string_view item);

// "valid: all, glibc, ..., NAME=PATH or a library's path": what a --malloc
// item may be, every process allocator added so far named, for messages.
std::string valid_malloc_items();

// The lines of a malloc file, read from `file` (named so in messages):
//   # a comment, and blank lines, are skipped
//   NAME PATH          (white space between; a relative PATH is taken from
//                       `directory`, the file's own directory)
// Refused with "FILE:LINE: ..." : a line without exactly two fields, a name
// that is not allowed, a name already on an earlier line, a path as above; and
// a file that names no library.
std::vector<MallocSpec> parse_malloc_file_text(std::string_view text, const std::string& file,
                                               const std::filesystem::path& directory);

// parse_malloc_file_text() of the file at `path`; refused if it cannot be
// read, is not a regular file, or is over 1 MiB.
std::vector<MallocSpec> read_malloc_file(const std::string& path);

// The process allocator an item of --malloc names, a user one added to the
// list first (not verified: call verify_process_malloc before any run). A
// worker gets malloc_argument(m) as its --malloc and calls this alone. Throws
// MallocUnavailable for "all" and for what parse_malloc_spec refuses.
const ProcessMalloc& register_malloc_item(std::string_view item);

// Adds the libraries of a malloc file (read_malloc_file) and returns them.
std::vector<const ProcessMalloc*> register_malloc_file(const std::string& path);

// Before any run: a built-in must be installed (preload_path); a user
// allocator's file must exist and be a readable regular file, and the probe
// must find that it loads, defines malloc, and that malloc resolves into it
// and operator new into it or libstdc++. Throws MallocUnavailable in one line.
void verify_process_malloc(const ProcessMalloc& m);

// What the probe found with `path` preloaded.
struct MallocProbe {
  bool loaded = false;          // a loaded object is the same file as `path`
  bool defines_malloc = false;  // that object itself defines malloc
  std::string malloc_library;   // the file malloc resolves into
  std::string new_library;      // the file operator new resolves into
  std::string loader_message;   // why ld.so did not preload it, "" if it said nothing
};

// Runs /proc/self/exe --malloc-probe PATH with LD_PRELOAD=PATH (the rest of the
// environment kept) and reads what it found. Throws MallocUnavailable if the
// child crashes, fails, says nothing or takes more than 10 seconds.
MallocProbe probe_malloc_library(const std::string& path);

// The probe's side. Every program that calls probe_malloc_library (through
// verify_process_malloc) calls this first thing in main: if its arguments are
// {program, "--malloc-probe", PATH}, it prints what the probe found and
// returns the exit status (0) for main to return; otherwise nullopt.
inline constexpr std::string_view kMallocProbeFlag = "--malloc-probe";
std::optional<int> run_malloc_probe_if_asked(int argc, char** argv);

}  // namespace mga
