#!/usr/bin/env bash
# Confirms the phase-derived allocation share with instruction counts: runs
# bench_train under callgrind for one policy and writes the share of all
# instructions spent inside the allocator (the calls into malloc/free and friends,
# operator new/delete, mimalloc's mi_*, jemalloc's je_*, tcmalloc's tc_* and
# tcmalloc::, std::pmr's resources, with all they call: scripts/callgrind_profile.py)
# to OUT (compare.py reads it).
# Usage: scripts/callgrind_share.sh POLICY OUT [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
policy=$1 out=$2 steps=${3:-50}
build=${MGA_BUILD_DIR:-build}
data=()  # $MGA_DATA, else bench_train's location rule
[ -n "${MGA_DATA:-}" ] && data=(--data "$MGA_DATA")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
  "$build/bench_train" --allocator="$policy" --steps "$steps" --samples 0 --quiet "${data[@]}" \
  >/dev/null 2>"$work/valgrind.log"
PYTHONPATH=scripts python3 - "$work/cg.out" "$policy" "$steps" >"$out.tmp" <<'PY'
import sys
import callgrind_profile  # scripts/callgrind_profile.py: what is the allocator's work
path, policy, steps = sys.argv[1], sys.argv[2], sys.argv[3]
profile = callgrind_profile.read(path)
total = profile.totals["Ir"]
allocator_ir = profile.allocator()["Ir"]
print(f"# callgrind, bench_train --allocator={policy} --steps {steps} --samples 0")
print(f"# instructions inside the allocator (calls into it, inclusive) / all instructions of the process")
print(f"policy {policy}")
print(f"instructions {total}")
print(f"allocator_instructions {allocator_ir}")
print(f"malloc_share {allocator_ir / total:.4f}")
PY
mv "$out.tmp" "$out"
cat "$out"
