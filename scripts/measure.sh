#!/usr/bin/env bash
# Every measurement behind results/<machine>/ and REPORT.md, one stage after
# the other on a quiet machine, then the report. Each stage writes its files
# atomically (the programs do), so an interrupted run leaves the previous
# results of the stages it did not finish.
#
#   scripts/measure.sh [--machine NAME] [--peer DIR] [STAGE...]
#
# Stages (default: all, in this order). Times: the run behind
# results/debian12-epyc-2vcpu/ on a 2-vCPU VM, about 2.5 hours in all:
#   train      bench_train, 5 repetitions: every policy with --topo dfs and
#              creation, the arena with hashset, both tapes         (7.5 min)
#   malloc     the policy x process-allocator matrix, dfs and creation (23 min)
#   threads    --threads 1,2,4 --release=all for every policy          (42 min)
#   gbench     the Google Benchmark programs                          (3.8 min)
#   sweep      the size axis, 3 repetitions             (one repetition: 5 min)
#   callgrind  the allocator's share of instructions, per policy      (1.5 min)
#   cachesim   simulated cache misses per node, three cases  (50 min, partly
#              beside other jobs; callgrind's counts do not depend on load)
#   peers      the tapes beside enjector/microgpt-c (needs --peer DIR)  (1 min)
#   crosslang  microgpt.py and microgpt.ts under their runtimes, CPython's
#              4.5-minute training once (--python-repeat 1)            (8 min)
#   report     scripts/compare.py: REPORT.md, charts, README blocks
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() {
  echo "measure.sh: $*" >&2
  exit 2
}

all_stages=(train malloc threads gbench sweep callgrind cachesim peers crosslang report)
machine="" peer="" stages=()
while (($#)); do
  case $1 in
    -h | --help) usage && exit 0 ;;
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
train=("$build/bench_train" --repeat 5 --quiet)

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
bench() {
  local name=$1
  shift
  table_tmp=$out/$name.txt.tmp
  "${train[@]}" "$@" --json "$out/$name.json" >"$table_tmp"
  mv "$table_tmp" "$out/$name.txt"
  table_tmp=""
}

stage_train() {
  bench bench_train_dfs --allocator=all --topo dfs
  bench bench_train_creation --allocator=all --topo creation
  bench bench_train_hashset_arena --allocator="$(policy_with no_alloc_reference)" --topo hashset
  bench bench_train_tape --engine tape
  bench bench_train_tape_exact --engine tape-exact
}
stage_malloc() {
  bench bench_train_malloc_dfs --malloc=all --allocator=all --topo dfs
  bench bench_train_malloc_creation --malloc=all --allocator=all --topo creation
}
stage_threads() { bench bench_train_threads --allocator=all --threads 1,2,4 --release=all; }
stage_gbench() { OUT_DIR=$out/gbench scripts/bench_gbench.sh; }
stage_sweep() { OUT_DIR=$out/sweep scripts/sweep.sh --repeat 3; }
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
  "${simulate[@]}" --shape large --topo dfs
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

for name in "${stages[@]}"; do stage "$name"; done
