#!/usr/bin/env bash
# Everything CI runs for reliability (issue 5), in order:
#   1. scripts/sanitize.sh   ASan/UBSan build, ctest (no slow tests), bench_train --allocator=all
#   2. scripts/leakcheck.sh  valgrind on bench_train for every policy
#   3. scripts/fuzz.sh 60    libFuzzer on parse_dataset for 60 s
# Measured on 2 cores: 3.5 min with build/ already built (the sanitizer stage, build included, 2.3 min of it),
# about 4.5 min from a clean checkout; well under the 10 min budget.
#
#   scripts/reliability.sh [DATASET]  default: ../shared/data/names.txt
#   FUZZ_SECONDS=...                  fuzzing time (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/names.txt}
start=$SECONDS
stage() {
  local t=$SECONDS
  echo "=== reliability: $* ==="
  "$@"
  echo "=== reliability: $1 done in $((SECONDS - t)) s ==="
}
stage scripts/sanitize.sh "$data"
stage scripts/leakcheck.sh "$data"
stage scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
echo "=== reliability: all passed in $((SECONDS - start)) s ==="
