#include "allocators/mimalloc_api.hpp"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace mga {

namespace {

template <class Fn>
void load(void* library, const char* symbol, Fn& out) {
  void* address = dlsym(library, symbol);
  if (address == nullptr)
    throw std::runtime_error(std::string("mimalloc: missing symbol ") + symbol);
  out = reinterpret_cast<Fn>(address);
}

MimallocApi load_api() {
  void* library = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    throw std::runtime_error(
        std::string("cannot load mimalloc (apt-get install libmimalloc2.0): ") + dlerror());
  }
  MimallocApi api{};
  load(library, "mi_heap_new", api.heap_new);
  load(library, "mi_heap_delete", api.heap_delete);
  load(library, "mi_heap_destroy", api.heap_destroy);
  load(library, "mi_heap_malloc_small", api.heap_malloc_small);
  load(library, "mi_free", api.free);
  load(library, "mi_is_in_heap_region", api.is_in_heap_region);
  load(library, "mi_version", api.version);
  return api;  // the library stays loaded for the life of the process
}

}  // namespace

const MimallocApi& mimalloc_api() {
  static const MimallocApi api = load_api();
  return api;
}

}  // namespace mga
