// --malloc's libraries (issue 21): an empty MGA_MALLOC_LIBRARY_PATH is unset,
// not a search that finds nothing, and a library is told by a symbol only it
// defines, not by its file name: a copy of one under another's name is caught.
#include "bench/process_malloc.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/reliability/bench_cli.hpp"
#include "tests/sanitizer.hpp"

namespace {

using namespace mga::test;
namespace fs = std::filesystem;

// The installed preloadable libraries (found without MGA_MALLOC_LIBRARY_PATH).
std::vector<std::pair<const mga::ProcessMalloc*, std::string>> installed() {
  std::vector<std::pair<const mga::ProcessMalloc*, std::string>> found;
  for (const auto& m : mga::process_mallocs()) {
    if (m.preload.empty()) continue;
    try {
      found.emplace_back(&m, mga::preload_path(m));
    } catch (const mga::MallocUnavailable&) {
    }
  }
  return found;
}

class ProcessMalloc : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kUnderAsan) GTEST_SKIP() << "ASan supplies malloc itself";
    if (std::getenv("MGA_MALLOC_LIBRARY_PATH") != nullptr)
      GTEST_SKIP() << "MGA_MALLOC_LIBRARY_PATH is set for the tests";
    libraries_ = installed();
  }
  std::vector<std::pair<const mga::ProcessMalloc*, std::string>> libraries_;
  TempDir dir_;
  std::string data_ = dir_.write("names.txt", kNames);
};

// It said the library "is not installed".
TEST_F(ProcessMalloc, EmptyLibraryPathVariableIsUnset) {
  if (libraries_.empty()) GTEST_SKIP() << "no preloadable library installed";
  const std::string name(libraries_[0].first->name);
  auto r = bench(small_run(data_, {"--malloc=" + name, "--quiet"}),
                 {.environment = {"MGA_MALLOC_LIBRARY_PATH="}});
  expect_success(r);
  EXPECT_NE(r.out.find("malloc        " + name + " ("), std::string::npos) << r.out;
}

// A copy of library A named as library B's file was reported as B.
TEST_F(ProcessMalloc, ALibraryIsToldByItsSymbolsNotItsFileName) {
  if (libraries_.size() < 2) GTEST_SKIP() << "fewer than two preloadable libraries installed";
  for (std::size_t i = 0; i < libraries_.size(); ++i) {
    const auto& [real, real_path] = libraries_[i];
    const auto& [named, named_path] = libraries_[(i + 1) % libraries_.size()];
    SCOPED_TRACE(std::string(real->name) + " named " + std::string(named->preload));
    TempDir fake;
    fs::copy_file(real_path, fake / std::string(named->preload));
    auto r = bench(small_run(data_, {"--malloc=" + std::string(named->name), "--quiet"}),
                   {.environment = {"MGA_MALLOC_LIBRARY_PATH=" + fake.path().string()}});
    expect_refused(r, kRuntimeFailure,
                   "--malloc=" + std::string(named->name) + " is not in effect");
    EXPECT_NE(r.err.find("(" + std::string(real->name) + ")"), std::string::npos);
  }
}

}  // namespace
