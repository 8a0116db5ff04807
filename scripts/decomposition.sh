#!/usr/bin/env bash
# Re-creates every number of the decomposition (README, *The answer*; REPORT.md,
# *Where the extra time goes*): the wall times of every policy, the cache
# simulation of every policy, for the default shape (--topo dfs and creation)
# and the large one (n_embd 128, n_layer 4, --topo dfs), then the report.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: scripts/decomposition.sh [--machine NAME] [--repeat N] [--jobs N] [--skip-wall] [--skip-cachesim]

Writes, for results/NAME/ (default debian12-epyc-2vcpu):
  bench_train_dfs.json, bench_train_creation.json   every policy, default shape, 1000 steps, --repeat N (5)
  sweep/embd128_layer4.json                         every policy, n_embd 128, n_layer 4, 3 steps, --repeat N
  cachesim/embd16_layer1_{dfs,creation}.json        scripts/cachesim.py, default shape, 50 steps
  cachesim/embd128_layer4_dfs.json                  scripts/cachesim.py, large shape, 3 steps
then runs scripts/compare.py (REPORT.md, charts, the README's generated blocks).

--jobs N      valgrind runs at once (default 2; the counts do not depend on it)
--skip-wall   keep the bench_train files (only the cache simulation and the report)
--skip-cachesim  keep the cache files (only the wall times and the report)
Run it on a quiet machine: the wall times are the measurement. Estimated for an idle 2-core
VM: about 45 minutes (wall times about 11 min, cache simulation about 35 min with --jobs 2).
Environment: MGA_BUILD_DIR (default build), MGA_DATA (the dataset).
EOF
}

die() { echo "decomposition.sh: $*" >&2; exit 2; }

machine=debian12-epyc-2vcpu repeat=5 jobs=2 wall=1 simulate=1
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --machine) [ $# -ge 2 ] || die "--machine needs a NAME"; machine=$2; shift 2 ;;
    --repeat) [ $# -ge 2 ] || die "--repeat needs a number"; repeat=$2; shift 2 ;;
    --jobs) [ $# -ge 2 ] || die "--jobs needs a number"; jobs=$2; shift 2 ;;
    --skip-wall) wall=0; shift ;;
    --skip-cachesim) simulate=0; shift ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
why=$(scripts/machine_name.sh --check "$machine") || die "--machine: $why"
[[ $repeat =~ ^[1-9][0-9]{0,3}$ ]] || die "--repeat: '$repeat' is not a number from 1 to 9999"
[[ $jobs =~ ^[1-9][0-9]?$ ]] || die "--jobs: '$jobs' is not a number from 1 to 99"

build=${MGA_BUILD_DIR:-build}
[ -x "$build/bench_train" ] || scripts/setup.sh
data=()
[ -n "${MGA_DATA:-}" ] && data=(--data "$MGA_DATA")
out=results/$machine
mkdir -p "$out/sweep"

if [ "$wall" = 1 ]; then
  for topo in dfs creation; do
    echo "decomposition.sh: wall times, default shape, --topo $topo -> $out/bench_train_$topo.json" >&2
    "$build/bench_train" --allocator=all --repeat "$repeat" --quiet --topo "$topo" "${data[@]}" \
      --json "$out/bench_train_$topo.json" >/dev/null
  done
  echo "decomposition.sh: wall times, n_embd 128, n_layer 4 -> $out/sweep/embd128_layer4.json" >&2
  "$build/bench_train" --allocator=all --repeat "$repeat" --quiet --samples 0 --steps 3 --n-embd 128 \
    --n-layer 4 "${data[@]}" --json "$out/sweep/embd128_layer4.json" >/dev/null
fi
if [ "$simulate" = 1 ]; then
  cachesim=(scripts/cachesim.py --machine "$machine" --build "$build" --jobs "$jobs" "${data[@]}")
  "${cachesim[@]}" --shape default --topo dfs
  "${cachesim[@]}" --shape default --topo creation
  "${cachesim[@]}" --shape large --topo dfs
fi
scripts/compare.py  # runs itself under a python3 with matplotlib
