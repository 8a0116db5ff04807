#!/usr/bin/env bash
# Confirms the phase-derived allocation share with instruction counts: runs
# bench_train under callgrind for one policy and writes the share of all
# instructions spent inside the allocator (malloc/free and friends, operator
# new/delete, mimalloc's mi_*, jemalloc's je_*, tcmalloc's tc_* and tcmalloc::,
# std::pmr's resources) to OUT (compare.py reads it).
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
callgrind_annotate --threshold=100 "$work/cg.out" >"$work/annotated.txt"
python3 - "$work/annotated.txt" "$policy" "$steps" >"$out.tmp" <<'PY'
import re, sys
path, policy, steps = sys.argv[1], sys.argv[2], sys.argv[3]
allocator = re.compile(r"(^|[^a-z])(malloc|free|_int_malloc|_int_free|malloc_consolidate|tcache|"
                       r"unlink_chunk|operator new|operator delete|mi_|_mi_|je_|mga_je_|arena_|tcache_|"
                       r"tc_|tcmalloc::|std::pmr::)")
total = allocator_ir = 0
for line in open(path):
    m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)", line)
    if not m:
        continue
    ir, symbol = int(m.group(1).replace(",", "")), m.group(2)
    if "PROGRAM TOTALS" in symbol:
        total = ir
    elif allocator.search(symbol.split("[")[0]):
        allocator_ir += ir
print(f"# callgrind, bench_train --allocator={policy} --steps {steps} --samples 0")
print(f"# self instructions in allocator functions / all instructions of the process")
print(f"policy {policy}")
print(f"instructions {total}")
print(f"allocator_instructions {allocator_ir}")
print(f"malloc_share {allocator_ir / total:.4f}")
PY
mv "$out.tmp" "$out"
cat "$out"
