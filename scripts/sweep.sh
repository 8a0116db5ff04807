#!/usr/bin/env bash
# Size axis: trains every policy on n_embd 16/32/64/128 x n_layer 1/2/4 and
# writes one bench_train JSON per shape into results/sweep/ (or $OUT_DIR) (ns/node, peak
# RSS, phases). Steps shrink as the graph grows so each shape costs about the
# same: the per-node numbers, not the totals, are what compare.py plots.
# Usage: scripts/sweep.sh [--repeat N]   (env MGA_BUILD_DIR, MGA_DATA, OUT_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MGA_BUILD_DIR:-build}
[ -x "$build/bench_train" ] || scripts/setup.sh
data=()  # $MGA_DATA, else bench_train's location rule
[ -n "${MGA_DATA:-}" ] && data=(--data "$MGA_DATA")
out_dir=${OUT_DIR:-results/sweep}
mkdir -p "$out_dir"
for layers in 1 2 4; do
  for embd in 16 32 64 128; do
    # nodes per step grow about as embd^2 * layers; keep steps * nodes roughly constant
    steps=$(( 200 * 16 * 16 / (embd * embd * layers) ))
    [ "$steps" -ge 3 ] || steps=3
    out=$out_dir/embd${embd}_layer${layers}.json
    echo "sweep: n_embd $embd, n_layer $layers, $steps steps -> $out" >&2
    "$build/bench_train" --allocator=all --quiet --samples 0 --steps "$steps" \
      --n-embd "$embd" --n-layer "$layers" "${data[@]}" --json "$out" "$@" >/dev/null
  done
done
