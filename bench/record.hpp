// The record a worker process prints for its Measurement, on one line, and the
// parent reads back:
//
//   mga-record allocator=NAME steps=N train_seconds=X ... replicas=K replica1.seed=S ...
//
// Every field is KEY=VALUE. One table per struct in bench/record.cpp (the
// Measurement's fields, then each replica's under the prefix "replicaI.")
// drives both writing and reading, so the two cannot drift apart. A string
// value escapes as %XX every byte that is not printable ASCII, a space or a
// '%'; a double is written exactly (the shortest text that reads back the same);
// the noise readings as noise_words (bench/noise.hpp), their flags made again
// by the reader for this machine's cores.
//
// parse_record takes exactly the fields of the table: none missing, none
// unknown or repeated, numbers that parse whole, finite doubles, 1 to
// kMaxThreads threads and 0 or `threads` replicas. Anything else is a worker
// that printed garbage: nullopt.
//
// To carry a new field: add it to Measurement (or ReplicaTime) and a row to
// its table; a nested struct's fields take a prefix in their keys ("noise.").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bench/measurement.hpp"

namespace mga {

std::string to_record(const Measurement& m);
std::optional<Measurement> parse_record(std::string_view line);

}  // namespace mga
