#!/usr/bin/env bash
# scripts/measure.sh refuses bad input in one line (exit 2) before it builds or
# measures anything, and every stage its --help names has a function.
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
echo "check_measure_sh: OK"
