#!/usr/bin/env bash
# scripts/measure.sh refuses bad input in one line (exit 2) before it builds or
# measures anything, every stage its --help names has a function, and a stage
# that fails leaves no temporary file.
set -uo pipefail
measure=$1
fail() { echo "check_measure_sh: $*" >&2; exit 1; }

"$measure" --help >/tmp/measure_help.$$ || fail "--help exited non-zero"
stages=$(sed -n 's/^all_stages=(\(.*\))$/\1/p' "$measure")
[[ -n $stages ]] || fail "no all_stages list in $measure"
for stage in $stages; do
  grep -q "^#   $stage " "$measure" || grep -q "^#   $stage$" "$measure" || fail "--help does not describe stage '$stage'"
  grep -q "^stage_$stage()" "$measure" || fail "stage '$stage' has no stage_$stage function"
done
rm -f /tmp/measure_help.$$

expect_usage_error() {
  local out
  out=$("$measure" "$@" 2>&1 >/dev/null)
  local status=$?
  ((status == 2)) || fail "'measure.sh $*' exited $status, not 2"
  [[ $(wc -l <<<"$out") == 1 && $out == measure.sh:* ]] || fail "'measure.sh $*' did not print one 'measure.sh:' line: $out"
}
expect_usage_error bogus-stage
expect_usage_error --frobnicate
expect_usage_error peers
expect_usage_error --machine "a/b" train
expect_usage_error --peer

# A stage that fails leaves no partial table (*.txt.tmp) behind: measure.sh
# runs from a scratch repository whose setup.sh does nothing and whose
# bench_train prints half a table and fails.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/scripts" "$scratch/build"
cp "$measure" "$(dirname "$measure")/machine_name.sh" "$scratch/scripts/"
printf '#!/bin/sh\nexit 0\n' >"$scratch/scripts/setup.sh"
printf '#!/bin/sh\necho "half a table"\necho "bench_train: failed" >&2\nexit 1\n' >"$scratch/build/bench_train"
chmod +x "$scratch/scripts/setup.sh" "$scratch/build/bench_train"
"$scratch/scripts/measure.sh" --machine m train >/dev/null 2>&1 && fail "a failing stage exited 0"
leftover=$(find "$scratch/results" -name '*.tmp')
[[ -z $leftover ]] || fail "a failed stage left $leftover"
echo "check_measure_sh: OK"
