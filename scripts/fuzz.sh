#!/usr/bin/env bash
# Fuzzes parse_dataset with libFuzzer (+ ASan/UBSan) for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]         default 60
#
# Builds fuzz/ standalone with clang in build-fuzz. Seeds come from
# fuzz/corpus (read only); new inputs go to build-fuzz/corpus; a crashing
# input is saved as build-fuzz/crash-* and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2; }
CXX_FUZZ=${CXX_FUZZ:-$(command -v clang++ || command -v clang++-14 || true)}
[[ -n $CXX_FUZZ ]] || { echo "fuzz.sh: clang++ not found" >&2; exit 2; }

cmake -S fuzz -B build-fuzz -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)"
mkdir -p build-fuzz/corpus
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
./build-fuzz/fuzz_dataset build-fuzz/corpus fuzz/corpus \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=build-fuzz/ -print_final_stats=1
echo "fuzz.sh: OK (no crash in ${seconds} s)"
