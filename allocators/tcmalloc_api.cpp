#include "allocators/tcmalloc_api.hpp"

#include <unistd.h>

#include <string_view>

#include "allocators/private_library.hpp"

namespace mga {

namespace {

// tcmalloc prints "tcmalloc: allocation failed N" to stderr before returning
// null; the policy turns the null into std::bad_alloc, which bench_train
// reports in its own one line. Every other message still goes to stderr.
void write_log_message(const char* message, int length) {
  if (std::string_view(message, std::size_t(length)).find("allocation failed") !=
      std::string_view::npos)
    return;
  while (length > 0) {
    const ssize_t written = write(STDERR_FILENO, message, std::size_t(length));
    if (written <= 0) return;
    message += written;
    length -= int(written);
  }
}

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
  using LogWriter = void (*)(const char*, int);
  LogWriter* log_writer = nullptr;
  load("_ZN8tcmalloc18log_message_writerE", log_writer);  // tcmalloc::log_message_writer
  *log_writer = write_log_message;
  return api;  // the library stays loaded for the life of the process
}

}  // namespace

const TcmallocApi& tcmalloc_api() {
  static const TcmallocApi api = load_api();
  return api;
}

}  // namespace mga
