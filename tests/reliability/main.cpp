// reliability_tests' main: GoogleTest's, after the two modes the tests start
// this program in (as /proc/self/exe): the malloc probe, as bench_train's main
// answers it (bench/user_malloc.hpp), and a worker's check of its process
// allocator (user_malloc_test.cpp): --active-malloc ITEM adds ITEM as a worker
// does, checks the process allocator, and prints "NAME SOURCE SHA256"; a
// failed check is one stderr line and exit 1.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "bench/user_malloc.hpp"

int main(int argc, char** argv) {
  if (const auto status = mga::run_malloc_probe_if_asked(argc, argv)) return *status;
  if (argc == 3 && std::string(argv[1]) == "--active-malloc") {
    try {
      const mga::ProcessMalloc& m = mga::register_malloc_item(argv[2]);
      const mga::ActiveMalloc active = mga::checked_process_malloc(m.name);
      std::printf("%s %s %s\n", active.name.c_str(),
                  std::string(mga::to_string(active.source)).c_str(), active.sha256.c_str());
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 1;
    }
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
