#!/usr/bin/env bash
# valgrind memcheck on bench_train, once per policy: exits non-zero if any run
# has a memory error or definitely-lost bytes.
#
#   scripts/leakcheck.sh [DATASET]    default: bench_train's location rule
#
# Memcheck sees glibc malloc/operator new (new, shared_ptr, arena, pool, the
# pmr policies). The mimalloc, jemalloc and tcmalloc heaps are mmap'ed regions
# it cannot look into: a node
# never freed there is not reported, but a leak of malloc'ed memory by those
# policies (or of the heaps themselves through the allocator's own malloc-free
# bookkeeping) and any invalid access in our code still are.
#
# --soname-synonyms=somalloc=NONE: by default memcheck also replaces the
# malloc/free of any library that defines them, libmimalloc included; its free
# is the same function as mi_free, so every node the mimalloc policy frees would
# go to memcheck's free instead ("Invalid free", and the node never returns to
# mimalloc). NONE restricts the replacement to glibc and libstdc++.
#
# scripts/valgrind.supp holds the leaks that are not ours (tcmalloc's initializer).
set -euo pipefail
cd "$(dirname "$0")/.."
data=()
[[ -n ${1:-} ]] && data=(--data "$1")

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target bench_train

failed=()
for policy in $(./build/bench_train --list-allocators | awk '{print $1}'); do
  log=build/leakcheck-$policy.log
  if valgrind --soname-synonyms=somalloc=NONE --suppressions=scripts/valgrind.supp \
      --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=3 \
      --log-file="$log" ./build/bench_train --allocator="$policy" --steps 3 --samples 2 \
      "${data[@]}" --quiet >/dev/null; then
    echo "leakcheck.sh: $policy: OK ($(grep -o 'definitely lost: [0-9,]* bytes' "$log" || echo 'no leaks possible'))"
  else
    echo "leakcheck.sh: $policy: FAILED (exit $?), see $log" >&2
    grep -E 'definitely lost|Invalid|uninitialised|ERROR SUMMARY' "$log" >&2 || true
    failed+=("$policy")
  fi
done
if ((${#failed[@]})); then
  echo "leakcheck.sh: FAILED for: ${failed[*]}" >&2
  exit 1
fi
echo "leakcheck.sh: OK"
