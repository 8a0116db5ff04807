#include "allocators/mimalloc_api.hpp"

#include "allocators/private_library.hpp"

namespace mga {

namespace {

MimallocApi load_api() {
  const char* soname = "libmimalloc.so.2";
  void* library = private_library::open(soname, "libmimalloc2.0");
  MimallocApi api{};
  auto load = [&](const char* symbol, auto& out) {
    private_library::load(library, soname, symbol, out);
  };
  load("mi_heap_new", api.heap_new);
  load("mi_heap_delete", api.heap_delete);
  load("mi_heap_destroy", api.heap_destroy);
  load("mi_heap_malloc_small", api.heap_malloc_small);
  load("mi_heap_check_owned", api.heap_check_owned);
  load("mi_heap_visit_blocks", api.heap_visit_blocks);
  load("mi_free", api.free);
  load("mi_is_in_heap_region", api.is_in_heap_region);
  load("mi_version", api.version);
  return api;  // the library stays loaded for the life of the process
}

}  // namespace

const MimallocApi& mimalloc_api() {
  static const MimallocApi api = load_api();
  return api;
}

}  // namespace mga
