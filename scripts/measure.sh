#!/usr/bin/env bash
# Every measurement behind results/<machine>/ and REPORT.md, one stage after
# the other on a quiet machine, then the report. Each stage writes its files
# atomically (the programs do), so an interrupted run leaves the previous
# results of the stages it did not finish.
#
#   scripts/measure.sh [--machine NAME] [--peer DIR] [--quick] [STAGE...]
#
# Stages (default: all, in this order), each with its time on the 2-vCPU
# EPYC VM debian12-epyc-2vcpu on 2026-12-07; 59 minutes in all:
#   train      bench_train, 5 repetitions: every policy with --topo dfs and
#              creation, the arena with hashset, both tapes (6.0 minutes)
#   malloc     the policy x process-allocator matrix for the baseline, the
#              reference-counted and the no-alloc reference policies under
#              every built-in process allocator but glibc (its cells are the
#              train stage's), dfs and creation, 5 repetitions (9.8 minutes)
#   threads    --threads 1,2 --release=all for every policy, 3 repetitions
#              (22.4 minutes)
#   gbench     the Google Benchmark programs (4.0 minutes)
#   sweep      the size axis, 1 repetition (3.2 minutes)
#   callgrind  the allocator's share of instructions, per policy (1.6 minutes)
#   cachesim   simulated cache misses per node, the default shape with dfs
#              and creation (3.2 minutes)
#   peers      the tapes beside enjector/microgpt-c (needs --peer DIR)
#              (1.2 minutes)
#   crosslang  microgpt.py and microgpt.ts under their runtimes, CPython's
#              4.5-minute training once (--python-repeat 1); 6.6 minutes,
#              installing the runtimes from npm included
#   report     scripts/compare.py: REPORT.md, charts, README blocks (7 s)
#
# --quick: every number the README's answer quotes, in at most 20 minutes, into
# the same files (default stages: train malloc gbench report; no other stage
# has a quick form). Training keeps 1000 steps; rounds are --repeat auto
# (bench_train --help), each within a budget:
#   train      every policy with dfs (budget 300 s) and creation (220 s),
#              both tapes with 5 repetitions (7.9 minutes)
#   malloc     the baseline policy under every built-in process allocator
#              but glibc, dfs (budget 150 s) (2.4 minutes)
#   gbench     bench_alloc's chain benchmarks (1.6 minutes)
#   report     as above (9 s)
# In all 12 minutes on 2026-12-07 (debian12-epyc-2vcpu), the build already done.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() {
  echo "measure.sh: $*" >&2
  exit 2
}

all_stages=(train malloc threads gbench sweep callgrind cachesim peers crosslang report)
quick_stages=(train malloc gbench report)
machine="" peer="" stages=() quick=0
while (($#)); do
  case $1 in
    -h | --help) usage && exit 0 ;;
    --quick)
      quick=1
      shift
      ;;
    --machine | --peer)
      (($# >= 2)) || die "$1 needs a value"
      [[ $1 == --machine ]] && machine=$2 || peer=$2
      shift 2
      ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
      [[ " ${all_stages[*]} " == *" $1 "* ]] || die "unknown stage '$1' (valid: ${all_stages[*]})"
      stages+=("$1")
      shift
      ;;
  esac
done
if ((quick)); then
  ((${#stages[@]})) || stages=("${quick_stages[@]}")
  for name in "${stages[@]}"; do
    [[ " ${quick_stages[*]} " == *" $name "* ]] || die "--quick: stage '$name' has no quick form (quick stages: ${quick_stages[*]})"
  done
fi
((${#stages[@]})) || stages=("${all_stages[@]}")
machine=${machine:-$(scripts/machine_name.sh)}
why=$(scripts/machine_name.sh --check "$machine") || die "--machine: $why"
if [[ " ${stages[*]} " == *" peers "* && -z $peer ]]; then
  die "the peers stage needs --peer DIR (a checkout of github.com/enjector/microgpt-c)"
fi

out=results/$machine
mkdir -p "$out"
build=${MGA_BUILD_DIR:-build}
scripts/setup.sh >/dev/null
train=("$build/bench_train" --quiet)

stage() {
  local started=$SECONDS
  echo "=== measure.sh: $1 -> $out ($(date -u +%H:%M:%S)) ===" >&2
  "stage_$1"
  echo "=== measure.sh: $1 done in $((SECONDS - started)) s ===" >&2
}

# bench_train prints its table on stdout; the .txt beside each JSON keeps it,
# written whole or not at all (the temporary file goes with a failed stage).
table_tmp=""
trap 'rm -f "$table_tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# 5 repetitions unless the arguments say how many.
bench() {
  local name=$1 repeat=(--repeat 5)
  shift
  [[ " $* " == *" --repeat"* ]] && repeat=()
  table_tmp=$out/$name.txt.tmp
  "${train[@]}" "${repeat[@]}" "$@" --json "$out/$name.json" >"$table_tmp"
  mv "$table_tmp" "$out/$name.txt"
  table_tmp=""
}

stage_train() {
  if ((quick)); then
    # Rounds until every cell's median is known to +-5% (95% interval), or the budget is spent.
    bench bench_train_dfs --allocator=all --topo dfs --repeat=auto --repeat-budget=300
    bench bench_train_creation --allocator=all --topo creation --repeat=auto --repeat-budget=220
  else
    bench bench_train_dfs --allocator=all --topo dfs
    bench bench_train_creation --allocator=all --topo creation
    bench bench_train_hashset_arena --allocator="$(policy_with no_alloc_reference)" --topo hashset
  fi
  bench bench_train_tape --engine tape
  bench bench_train_tape_exact --engine tape-exact
}
# glibc's cells are the train stage's (the report reads them from its files).
stage_malloc() {
  local mallocs
  mallocs=$(preloaded_mallocs)
  if ((quick)); then
    bench bench_train_malloc_dfs --malloc="$mallocs" --allocator="$(policy_with baseline)" --topo dfs \
      --repeat=auto --repeat-budget=150
    return
  fi
  local matrix
  matrix=$(policy_with baseline),$(policy_with reference_counted),$(policy_with no_alloc_reference)
  bench bench_train_malloc_dfs --malloc="$mallocs" --allocator="$matrix" --topo dfs
  bench bench_train_malloc_creation --malloc="$mallocs" --allocator="$matrix" --topo creation
}
stage_threads() { bench bench_train_threads --allocator=all --threads 1,2 --release=all --repeat 3; }
stage_gbench() {
  if ((quick)); then  # the chain rates, for the elasticity
    PROGRAMS=bench_alloc OUT_DIR=$out/gbench scripts/bench_gbench.sh --benchmark_filter='^chain/'
  else
    OUT_DIR=$out/gbench scripts/bench_gbench.sh
  fi
}
stage_sweep() { OUT_DIR=$out/sweep scripts/sweep.sh --repeat 1; }
stage_callgrind() {
  local policy
  for policy in $(policies); do
    scripts/callgrind_share.sh "$policy" "$out/callgrind_$policy.txt"
  done
}
# Callgrind's counts do not depend on the load, so two valgrind runs at once.
stage_cachesim() {
  local simulate=(scripts/cachesim.py --machine "$machine" --build "$build" --jobs 2)
  "${simulate[@]}" --shape default --topo dfs
  "${simulate[@]}" --shape default --topo creation
}
stage_peers() { scripts/bench_tape_peers.sh "$peer" --repeat 9 --machine "$machine"; }
stage_crosslang() {
  scripts/install_runtimes.sh
  /usr/bin/python3 scripts/crosslang.py --machine "$machine" --python-repeat 1
}
stage_report() {
  /usr/bin/python3 scripts/compare.py
  /usr/bin/python3 scripts/compare.py --check-readme
}

# The registry's policies, and the one with a trait, from the program itself.
policies() {
  "$build/bench_train" --list-allocators --format=json |
    /usr/bin/python3 -c 'import json, sys; print(*(p["name"] for p in json.load(sys.stdin)["policies"]))'
}
policy_with() {
  "$build/bench_train" --list-allocators --format=json | /usr/bin/python3 -c '
import json, sys
print(next(p["name"] for p in json.load(sys.stdin)["policies"] if p["traits"][sys.argv[1]]))' "$1"
}
# Every built-in process allocator but glibc, comma-separated.
preloaded_mallocs() {
  "$build/bench_train" --list-allocators --format=json |
    /usr/bin/python3 -c 'import json, sys; print(",".join(m["name"] for m in json.load(sys.stdin)["mallocs"] if m["name"] != "glibc"))'
}

for name in "${stages[@]}"; do stage "$name"; done
