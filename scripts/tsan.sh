#!/usr/bin/env bash
# ThreadSanitizer on the thread axis: builds bench_train alone in build-tsan
# (CMakePresets.json, preset "tsan": MGA_SANITIZE_THREAD=ON, RelWithDebInfo),
# then runs every policy with two replicas at once, and with their nodes freed
# on a second thread where the policy allows it (--threads 2 --release=all
# --allocator=all), each in its own sanitized worker process. A data race (or
# any other TSan report) makes the worker exit non-zero, bench_train fail, and
# this script print the reports and fail.
#
#   scripts/tsan.sh [DATASET]     default: bench_train's location rule
#   TSAN_STEPS=...                training steps per replica (default 8)
#
# What TSan can see: every access our code makes (the graph, the models, the
# policies' own bookkeeping, the hand-over to the release thread, the replica
# threads) and glibc/pthread synchronization. It replaces malloc and operator
# new with its own allocator, so `new`, `shared_ptr`, the arena's chunks, the
# pool's blocks and the pmr resources' upstream memory come from an allocator
# it knows. It cannot see inside the custom allocators: mimalloc and tcmalloc
# (dlopen'ed) and jemalloc (a private static archive) are not instrumented, so
# a race inside them, or their own cross-thread synchronization, is invisible
# to it; for those policies it checks only our side. The pmr pools' internals
# live in libstdc++.so (not instrumented) but lock through pthread, which TSan
# intercepts.
set -euo pipefail
cd "$(dirname "$0")/.."
data=()
[[ -n ${1:-} ]] && data=(--data "$1")
steps=${TSAN_STEPS:-8}
start=$SECONDS

cmake --preset tsan >/dev/null
cmake --build --preset tsan -j"$(nproc)"
built=$SECONDS
reports=build-tsan/tsan-reports
rm -rf "$reports"
mkdir -p "$reports"
options=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan.supp:print_suppressions=0
export TSAN_OPTIONS=${TSAN_OPTIONS:-$options:log_path=$PWD/$reports/report}

# GCC 12's TSan maps its shadow memory at fixed addresses; with more address
# randomization than it expects (vm.mmap_rnd_bits above 28, as on newer
# kernels) it dies at start with "FATAL: ThreadSanitizer: unexpected memory
# mapping". A probe tells; if it fails, run without address randomization
# (setarch -R, no privileges needed, inherited by the workers); if that is not
# allowed either, say what would be.
probe() { TSAN_OPTIONS=$options "$@" build-tsan/bench_train --list-allocators >/dev/null 2>"$reports/probe"; }
wrapper=()
if ! probe; then
  if setarch "$(uname -m)" -R true 2>/dev/null && probe setarch "$(uname -m)" -R; then
    wrapper=(setarch "$(uname -m)" -R)
    echo "tsan.sh: vm.mmap_rnd_bits is $(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo '?');" \
      "running without address randomization (setarch -R)"
  else
    echo "tsan.sh: build-tsan/bench_train does not start under ThreadSanitizer ($(grep -m1 . \
      "$reports/probe" 2>/dev/null || echo 'no message')); vm.mmap_rnd_bits is" \
      "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo '?') (GCC 12's TSan needs 28 or" \
      "less) and setarch -R is not permitted here; as root: sysctl vm.mmap_rnd_bits=28" >&2
    exit 2
  fi
fi
rm -f "$reports/probe"

if ! "${wrapper[@]}" build-tsan/bench_train --allocator=all --threads 2 --release=all \
  --steps "$steps" --samples 2 --quiet "${data[@]}"; then
  for report in "$reports"/report*; do
    [[ -e $report ]] && cat "$report" >&2
  done
  echo "tsan.sh: FAILED (the reports above, and in $reports)" >&2
  exit 1
fi
if compgen -G "$reports/report*" >/dev/null; then  # a report with a zero exit status
  cat "$reports"/report* >&2
  echo "tsan.sh: FAILED: ThreadSanitizer reported (above)" >&2
  exit 1
fi
echo "tsan.sh: OK (build $((built - start)) s, runs $((SECONDS - built)) s)"
