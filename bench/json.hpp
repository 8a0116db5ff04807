// The JSON file of a bench_train run (--json): what the run measured, with
// where and how (context) and what was asked (config). scripts/compare.py
// reads it; docs/ describe its fields.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/stats.hpp"

namespace mga {

using Fields = std::vector<std::pair<std::string, std::string>>;  // values already JSON-encoded
// A JSON string of `text`. Bytes that are not UTF-8 (a path may hold any)
// become the lone surrogates U+DC80..U+DCFF, as Python's surrogateescape:
// os.fsencode(json.load(f)[...]) gives the original bytes back.
std::string json_string(std::string_view text);
// A JSON number of `value` (%.9g), null if it is not finite.
std::string json_number(double value);
std::string to_json(const Fields& context, const Fields& config,
                    const std::vector<PolicyRuns>& all);
// A JSON object of `fields`, its lines indented by `indent` (as nested in to_json's config).
std::string json_object(const Fields& fields, const std::string& indent = "  ");

}  // namespace mga
