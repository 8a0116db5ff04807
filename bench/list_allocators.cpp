#include "bench/list_allocators.hpp"

#include <algorithm>
#include <string>

#include "allocators/registry.hpp"
#include "bench/json.hpp"
#include "bench/process_malloc.hpp"

namespace mga {

void print_allocator_list(std::FILE* out) {
  int name_width = 0;  // the longest name
  for_each_policy([&]<class P>(std::type_identity<P>) {
    name_width = std::max(name_width, int(P::name.size()));
  });
  for_each_policy([&]<class P>(std::type_identity<P>) {
    std::fprintf(out, "%-*s %s\n", name_width, std::string(P::name).c_str(),
                 std::string(P::description).c_str());
  });
}

void print_allocator_list_json(std::FILE* out) {
  std::string json = "{\n  \"policies\": [";
  const char* separator = "\n";
  for_each_policy([&]<class P>(std::type_identity<P>) {
    std::string traits;
    for_each_reported_trait(P::name, P::traits, [&](const char* key, bool value) {
      traits += (traits.empty() ? "" : ", ") + json_string(key) + ": " + (value ? "true" : "false");
    });
    json += separator;
    const auto reason = P::traits.single_thread_release_reason;
    const PolicyRole role = role_of(P::name);
    json += "    {\"name\": " + json_string(P::name) +
            ", \"description\": " + json_string(P::description) + ", \"traits\": {" + traits +
            "}, \"single_thread_release_reason\": " +
            (reason.empty() ? std::string("null") : json_string(reason)) +
            ", \"role\": " + json_string(to_string(role.role)) +
            ", \"origin\": " + json_string(to_string(role.origin)) + "}";
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
