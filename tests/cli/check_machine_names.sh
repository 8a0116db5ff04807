#!/usr/bin/env bash
# --machine NAME names results/NAME/ (issue 21, item 11): '..' and '.' passed
# every script's "plain directory name" check, and `measure.sh --machine ..
# train` wrote ten files into the repository root. One rule,
# scripts/machine_name.sh --check, refuses them for every script: one line,
# exit 2, nothing written. The shell scripts run from a scratch repository
# (copies, with a setup.sh, bench_train and compare.py that do nothing), so a
# check that lets a name through builds and measures nothing here.
#
#   check_machine_names.sh SCRIPTS_DIR
set -uo pipefail
scripts=$(realpath "$1")
fail() {
  echo "check_machine_names: $*" >&2
  exit 1
}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for name in debian12-epyc-2vcpu ok a.b_c-d 9; do
  why=$("$scripts/machine_name.sh" --check "$name") || fail "'$name' was refused: $why"
  [[ -z $why ]] || fail "--check '$name' printed '$why'"
done
for name in . .. .hidden -x a/b "" "a b" $'a\nb' ../x; do
  why=$("$scripts/machine_name.sh" --check "$name")
  (($? == 2)) || fail "--check '$name' did not exit 2"
  [[ $(wc -l <<<"$why") == 1 && $why == *"not a plain directory name"* ]] ||
    fail "--check '$name' did not say why in one line: '$why'"
done
[[ $("$scripts/machine_name.sh") =~ ^[A-Za-z0-9_][A-Za-z0-9._-]*$ ]] ||
  fail "this machine's own name does not pass the check"

repo=$scratch/repo
mkdir -p "$repo/scripts" "$repo/build"
for script in measure.sh bench_tape_peers.sh machine_name.sh; do
  cp "$scripts/$script" "$repo/scripts/"
done
for stub in scripts/setup.sh scripts/compare.py build/bench_train; do
  printf '#!/bin/sh\nexit 0\n' >"$repo/$stub"
  chmod +x "$repo/$stub"
done
before=$(cd "$scratch" && find . | sort)

# expect_refused PROGRAM ARGS...: exit 2, one line "PROGRAM: --machine: ...".
expect_refused() {
  local program=$1 errors status
  shift
  errors=$("$@" 2>&1 >/dev/null)
  status=$?
  ((status == 2)) || fail "'$program ${*:2}' exited $status, not 2: $errors"
  [[ $(wc -l <<<"$errors") == 1 && $errors == *"$program"*"--machine: "*"not a plain directory name"* ]] ||
    fail "'$program ${*:2}' did not refuse --machine in one line: '$errors'"
}
for name in .. .; do
  expect_refused measure.sh "$repo/scripts/measure.sh" --machine "$name" train
  expect_refused bench_tape_peers.sh "$repo/scripts/bench_tape_peers.sh" "$scratch/no-peer" --machine "$name"
  # The Python scripts import their siblings: the real ones, stopped before any work.
  expect_refused cachesim.py python3 "$scripts/cachesim.py" --machine "$name" --build "$scratch/no-build"
  expect_refused crosslang.py python3 "$scripts/crosslang.py" --machine "$name" --programs "$scratch/none"
done
[[ $(cd "$scratch" && find . | sort) == "$before" ]] || fail "a refused run wrote files"
echo "check_machine_names: OK"
