// The values of a key in a bench_train --json file, for the end-to-end
// tests: every occurrence of "KEY": in document order, each value as its JSON
// text (a string with its quotes, an object or list whole). Enough for the
// files bench_train writes, whose keys are never inside strings.
#pragma once

#include <string>
#include <vector>

namespace mga::test {

// Where the JSON value that starts at `start` ends (one past its last character).
inline std::size_t json_value_end(const std::string& json, std::size_t start) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = start; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) return i + 1;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return i;
      if (--depth == 0) return i + 1;
    } else if ((c == ',' || c == '\n') && depth == 0) {
      return i;
    }
  }
  return json.size();
}

inline std::vector<std::string> json_values(const std::string& json, const std::string& key) {
  std::vector<std::string> values;
  const std::string quoted = "\"" + key + "\": ";
  for (std::size_t at = json.find(quoted); at != std::string::npos;
       at = json.find(quoted, at + 1)) {
    const std::size_t start = at + quoted.size();
    values.push_back(json.substr(start, json_value_end(json, start) - start));
  }
  return values;
}

// A JSON string's text without its quotes (bench_train's paths and names need no unescaping here).
inline std::string unquoted(const std::string& value) {
  return value.size() >= 2 && value.front() == '"' ? value.substr(1, value.size() - 2) : value;
}

}  // namespace mga::test
