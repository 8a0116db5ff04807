// Loading an allocator's shared library privately. Debian's libmimalloc.so.2
// and libtcmalloc_minimal.so.4 export malloc, free and operator new (tcmalloc
// also mmap, munmap and sbrk): linked or loaded into the global scope, they would
// replace those for the whole process, and the `new` policy would silently
// measure them. dlopen with RTLD_LOCAL keeps their symbols out of the global
// scope; the policies call them through pointers from dlsym.
#pragma once

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace mga::private_library {

// Loads `soname` (from Debian package `package`) with RTLD_LOCAL, for good.
inline void* open(const char* soname, const char* package) {
  void* library = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    throw std::runtime_error(std::string("cannot load ") + soname + " (apt-get install " + package +
                             "): " + dlerror());
  }
  return library;
}

template <class Fn>
void load(void* library, const char* soname, const char* symbol, Fn& out) {
  void* address = dlsym(library, symbol);
  if (address == nullptr)
    throw std::runtime_error(std::string(soname) + ": missing symbol " + symbol);
  out = reinterpret_cast<Fn>(address);
}

}  // namespace mga::private_library
