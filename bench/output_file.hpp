// The files bench_train writes (--json): checked before any training, written
// whole or not at all, and never over one of the run's own inputs.
#pragma once

#include <string>
#include <vector>

namespace mga {

// Checks that results may be written to `path` and returns the file to write:
// `path` itself, or the file it names through symbolic links (written in
// place, the links kept). Throws std::runtime_error with a one-line reason if
//  - `path` is empty or "-" (standard output carries the table), or names a
//    directory, a device, a FIFO, a socket or a dangling link: only a regular
//    file or a path that does not exist may be replaced;
//  - it is one of `inputs` (the dataset, the program), however reached: same
//    device and inode, so other spellings, symbolic and hard links all count;
//    or the file standard output or standard error goes to (/dev/stdout);
//  - a file cannot be created beside it.
std::string check_output_file(const std::string& path, const std::vector<std::string>& inputs);

// Makes a write past the file size limit (ulimit -f) fail with EFBIG, which
// write_file_atomically and the checks of stdout report, instead of killing
// the process with SIGXFSZ halfway through a file. The worker processes
// inherit it. Call at the start of main.
void ignore_file_size_limit();

// Writes `content` to a temporary file beside `path` (a short name, within
// NAME_MAX whatever the length of `path`'s), then renames it over `path`:
// readers see the old file or the whole new one, which keeps the old one's
// permissions. Every write, fsync and close is checked; on any failure the
// temporary file is removed. A termination signal that arrives meanwhile
// discards the new file before the process dies of it.
// Throws std::runtime_error if the file cannot be written or `path` has
// become something other than a regular file.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace mga
