// The background-release runs, in a file of their own: they instantiate the
// whole model once more for every policy that qualifies, and as a source of
// bench_train (not of mga_bench) this compiles beside bench_train.cpp.
#include "bench/background_release.hpp"

#include <stdexcept>
#include <string>

#include "allocators/registry.hpp"

namespace mga {

RunResult run_microgpt_background(std::string_view policy, const Dataset& data,
                                  const RunConfig& config, const LineSink& print) {
  RunResult result;
  const bool found = with_policy(policy, [&]<class P>(std::type_identity<P>) {
    if constexpr (ReleasesAcrossThreads<P>) {
      result = run_microgpt<BackgroundRelease<P>>(data, config, print);
    } else {
      throw std::invalid_argument(std::string(P::name) +
                                  " cannot give nodes back on another thread: " +
                                  std::string(P::traits.single_thread_release_reason));
    }
  });
  if (!found) throw std::invalid_argument("unknown allocator '" + std::string(policy) + "'");
  return result;
}

}  // namespace mga
