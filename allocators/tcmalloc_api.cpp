#include "allocators/tcmalloc_api.hpp"

#include "allocators/private_library.hpp"

namespace mga {

namespace {

TcmallocApi load_api() {
  const char* soname = "libtcmalloc_minimal.so.4";
  void* library = private_library::open(soname, "libtcmalloc-minimal4");
  TcmallocApi api{};
  auto load = [&](const char* symbol, auto& out) {
    private_library::load(library, soname, symbol, out);
  };
  load("tc_malloc", api.malloc);
  load("tc_free", api.free);
  load("tc_version", api.version);
  load("MallocExtension_GetOwnership", api.ownership);
  return api;  // the library stays loaded for the life of the process
}

}  // namespace

const TcmallocApi& tcmalloc_api() {
  static const TcmallocApi api = load_api();
  return api;
}

}  // namespace mga
