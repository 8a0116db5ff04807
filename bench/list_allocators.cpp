#include "bench/list_allocators.hpp"

#include <string>

#include "allocators/registry.hpp"
#include "bench/process_malloc.hpp"
#include "bench/report.hpp"

namespace mga {

void print_allocator_list(std::FILE* out) {
  for_each_policy([&]<class P>(std::type_identity<P>) {
    std::fprintf(out, "%-14s %s\n", std::string(P::name).c_str(),
                 std::string(P::description).c_str());
  });
}

void print_allocator_list_json(std::FILE* out) {
  std::string json = "{\n  \"policies\": [";
  const char* separator = "\n";
  for_each_policy([&]<class P>(std::type_identity<P>) {
    std::string traits;
    for_each_trait(P::traits, [&](const char* key, bool value) {
      traits += (traits.empty() ? "" : ", ") + json_string(key) + ": " + (value ? "true" : "false");
    });
    json += separator;
    json += "    {\"name\": " + json_string(P::name) +
            ", \"description\": " + json_string(P::description) + ", \"traits\": {" + traits + "}}";
    separator = ",\n";
  });
  json += "\n  ],\n  \"mallocs\": [";
  separator = "\n";
  for (const auto& m : process_mallocs()) {
    std::string path;
    try {
      path = json_string(preload_path(m));
    } catch (const MallocUnavailable&) {
      path = "null";
    }
    json += separator;
    json += "    {\"name\": " + json_string(m.name) +
            ", \"description\": " + json_string(m.description) +
            ", \"preload\": " + json_string(m.preload) + ", \"path\": " + path +
            ", \"package\": " + json_string(m.package) +
            ", \"tunables\": " + json_string(m.tunables) + "}";
    separator = ",\n";
  }
  json += "\n  ]\n}\n";
  std::fputs(json.c_str(), out);
}

}  // namespace mga
