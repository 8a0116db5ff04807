#!/usr/bin/env bash
# ASan + UBSan: builds bench_train, core_tests and reliability_tests in
# build-asan (CMakePresets.json, preset "asan": MGA_SANITIZE=ON, -O1 -g1), runs
# ctest without the slow tests (label "slow" and the parity tests) and those
# that run no sanitized code of ours (Python-only, valgrind, Google Benchmark),
# then bench_train --allocator=all, alone and with two replicas and a release
# thread each (--threads 2 --release=all).
# The test preset also leaves out two tests that check which library provides
# malloc: under ASan it is libasan, and mimalloc's mmaps land outside the range
# mi_is_in_heap_region tracks.
#
#   scripts/sanitize.sh [DATASET]     default: bench_train's location rule
#
# What ASan can see: the new, shared_ptr, arena, pool and pmr policies allocate
# through the sanitized operator new, so every node is checked. mimalloc and
# tcmalloc (dlopen'ed) and jemalloc (a private static archive) carve nodes out
# of their own mmap'ed heaps, which ASan does not poison: for those three this
# run only proves that they work next to ASan (no crash, no UB in our code, no
# leak of malloc'ed memory); scripts/leakcheck.sh covers them under valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
data=()
[[ -n ${1:-} ]] && data=(--data "$1")

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}

cmake --preset asan >/dev/null
cmake --build --preset asan -j"$(nproc)"
ctest --preset asan
# Every policy, each in its own sanitized worker process; a worker that trips a
# sanitizer exits non-zero and bench_train fails.
./build-asan/bench_train --allocator=all --steps 20 --samples 5 "${data[@]}" --quiet
# The thread axis: a node used after the release thread freed it is caught here.
./build-asan/bench_train --allocator=all --threads 2 --release=all --steps 10 --samples 2 \
  "${data[@]}" --quiet
echo "sanitize.sh: OK"
