// The kinds of option bench_train's command line defines (bench/options.cpp):
// integers by bench/numbers.hpp's rule, texts checked by a parser, names of an
// enum, and decimal numbers.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/numbers.hpp"
#include "core/enum_names.hpp"

namespace mga {

// Every integer option's check (bench/numbers.hpp's one rule). It also
// rewrites the text as plain decimal, which CLI11 then converts: it would read
// "010" as octal and "0x3" as hexadecimal.
inline CLI::Validator integer_in(long long min, long long max) {
  return CLI::Validator(
      [min, max](std::string& text) {
        std::string why;
        const std::optional<long long> value = parse_integer(text, min, max, &why);
        if (value) text = std::to_string(*value);
        return value ? std::string() : why;
      },
      "INT in [" + std::to_string(min) + " - " + std::to_string(max) + "]");
}

// An option whose text is checked by `parse` (nullopt and a reason if the
// text is refused) and then stored by `store`.
template <class T>
CLI::Option* add_parsed(CLI::App& app, const std::string& name, const std::string& help,
                        std::function<std::optional<T>(const std::string&, std::string*)> parse,
                        std::function<void(T)> store) {
  return app
      .add_option_function<std::string>(
          name,
          [parse, store](const std::string& text) {
            std::string why;  // none: the check below has passed
            store(*parse(text, &why));
          },
          help)
      ->check([parse](const std::string& text) {
        std::string why;
        return parse(text, &why) ? std::string() : why;
      });
}

template <NamedEnum Enum>
CLI::Option* add_enum(CLI::App& app, const std::string& name, const std::string& help,
                      Enum* value) {
  std::vector<std::string> names;
  for (const auto& entry : enum_names(Enum{})) names.emplace_back(entry.name);
  return app
      .add_option_function<std::string>(
          name, [value](const std::string& text) { *value = *parse_enum<Enum>(text); }, help)
      ->check(CLI::IsMember(names))
      ->default_str(std::string(to_string(*value)));
}

// A number option read by parse_decimal within [min, max] (and above min
// when `above`), stored as given.
inline CLI::Option* add_decimal(CLI::App& app, const std::string& name, const std::string& help,
                                double min, double max, bool above, double* value) {
  return add_parsed<double>(
             app, name, help,
             [=](const std::string& text, std::string* why) {
               std::optional<double> parsed = parse_decimal(text, min, max);
               if (parsed && above && *parsed <= min) parsed.reset();
               if (!parsed) {
                 char range[64];
                 std::snprintf(range, sizeof range, "%s %g to %g", above ? "above" : "from", min,
                               max);
                 *why = "not a number " + std::string(range) + ": '" + text + "'";
               }
               return parsed;
             },
             [value](double parsed) { *value = parsed; })
      ->default_str(shortest_decimal(*value));
}

}  // namespace mga
