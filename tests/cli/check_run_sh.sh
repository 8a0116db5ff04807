#!/usr/bin/env bash
# scripts/run.sh (issue 21, item 7): the user's options override its defaults
# (--allocator=all --repeat 3) instead of clashing with them, and relative
# paths (--data, --json) mean what they mean where the user typed them.
# run.sh runs from a copy in a scratch repository whose setup.sh does nothing,
# so nothing is built here: first with a bench_train that prints its
# arguments, then with the real one.
#
#   check_run_sh.sh RUN_SH BENCH_TRAIN DATASET
set -uo pipefail
run_sh=$1 bench_train=$(realpath "$2") data=$3
fail() {
  echo "check_run_sh: $*" >&2
  exit 1
}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
repo=$scratch/repo user=$scratch/user
mkdir -p "$repo/scripts" "$repo/build" "$user"
cp "$run_sh" "$repo/scripts/run.sh"
printf '#!/bin/sh\nexit 0\n' >"$repo/scripts/setup.sh"
printf '#!/bin/sh\nfor arg in "$@"; do printf "%%s\\n" "$arg"; done\n' >"$repo/build/bench_train"
chmod +x "$repo/scripts/setup.sh" "$repo/build/bench_train"

run() { (cd "$user" && env -u MGA_BUILD_DIR "$repo/scripts/run.sh" "$@"); }
# expect "ARG1 ARG2 ..." RUN_SH_ARGS...: what bench_train gets, space-separated.
expect() {
  local expected=$1 got
  shift
  got=$(run "$@" | paste -sd' ') || fail "run.sh $* failed"
  [[ $got == "$expected" ]] || fail "run.sh $*: bench_train got '$got', expected '$expected'"
}
expect "--allocator=all --repeat 3"
expect "--allocator=all --repeat 5 --json $user/out.json" --repeat 5 --json out.json
expect "--allocator=all --repeat=2" --repeat=2
expect "--repeat 3 --allocator=some-policy" --allocator=some-policy
expect "--allocator some-policy --repeat 1" --allocator some-policy --repeat 1
expect "--repeat 3 --engine tape" --engine tape
expect "--repeat 3 --engine=tape-exact" --engine=tape-exact
expect "--allocator=all --repeat 3 --engine graph" --engine graph
expect "--allocator=all --repeat 3 --data $user/d/names.txt --json=$user/sub/o.json" \
  --data d/names.txt --json=sub/o.json
expect "--allocator=all --repeat 3 --json /abs/o.json --json=-" --json /abs/o.json --json=-
expect "--allocator=all --repeat 3 --seed -5" --seed -5

# The real bench_train: a run with the user's --repeat and --allocator, whose
# relative --data and --json are the user's directory's.
ln -sf "$bench_train" "$repo/build/bench_train"
cp "$data" "$user/names.txt"
policy=$("$bench_train" --list-allocators | head -n 1 | cut -d' ' -f1)
run --allocator="$policy" --repeat 2 --steps 1 --samples 0 --quiet --data names.txt \
  --json out.json >"$scratch/stdout" 2>"$scratch/stderr" || fail "a real run failed: $(cat "$scratch/stderr")"
[[ -s $user/out.json ]] || fail "the JSON is not in the user's directory"
[[ ! -e $repo/out.json ]] || fail "the JSON landed in the repository"
[[ $(grep -c '"output_fnv1a64"' "$user/out.json") == 2 ]] || fail "out.json does not hold 2 repetitions"
echo "check_run_sh: OK"
