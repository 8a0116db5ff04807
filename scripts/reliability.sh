#!/usr/bin/env bash
# Everything CI runs for reliability (issues 5 and 12), in order:
#   1. the reliability tests (ctest -L reliability, Release build in build/): hostile input,
#      output files, the worker protocol with injected faults, seeds, memory, dataset paths
#   2. scripts/sanitize.sh   ASan/UBSan build, ctest (no slow tests), bench_train --allocator=all
#   3. scripts/tsan.sh       ThreadSanitizer build of bench_train alone, then --allocator=all
#                            --threads 2 --release=all (issue 17)
#   4. scripts/leakcheck.sh  valgrind on bench_train for every policy
#   5. scripts/fuzz.sh 60    libFuzzer on parse_dataset for 60 s
# Measured from a clean clone (.ci/run, after scripts/test.sh) on a 2-core VM:
# 409 s with --skip-ctest (sanitize 275 s, tsan 52 s, leakcheck 17 s, fuzz 65 s).
#
#   scripts/reliability.sh [--skip-ctest] [DATASET]
#                                     DATASET default: bench_train's location rule
#                                     (../shared/data/names.txt, else data/names.txt)
#   --skip-ctest                      leave out stage 1, when the whole ctest suite
#                                     just ran on this build/ (.ci/run, after scripts/test.sh)
#   FUZZ_SECONDS=...                  fuzzing time (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
run_ctest=1
if [[ ${1:-} == --skip-ctest ]]; then
  run_ctest=0
  shift
fi
stage() {
  local t=$SECONDS
  echo "=== reliability: $* ==="
  "$@"
  echo "=== reliability: $1 done in $((SECONDS - t)) s ==="
}
reliability_tests() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)" --target bench_train reliability_tests
  ctest --test-dir build -L reliability -j"$(nproc)" --output-on-failure
}
((run_ctest)) && stage reliability_tests
stage scripts/sanitize.sh "$@"
stage scripts/tsan.sh "$@"
stage scripts/leakcheck.sh "$@"
stage scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
echo "=== reliability: all passed in $((SECONDS - start)) s ==="
