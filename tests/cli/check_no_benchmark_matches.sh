#!/usr/bin/env bash
# A Google Benchmark program (bench_alloc, bench_step) whose --benchmark_filter
# matches nothing measured nothing: it must fail (exit non-zero) with one line
# on stderr, not exit 0 (issue 21).
set -uo pipefail
fail() {
  echo "check_no_benchmark_matches: $*" >&2
  exit 1
}
(($# > 0)) || fail "usage: check_no_benchmark_matches.sh PROGRAM..."
for program in "$@"; do
  errors=$("$program" '--benchmark_filter=^no such benchmark$' 2>&1 >/dev/null)
  status=$?
  ((status != 0)) || fail "$program exited 0 with a filter that matches nothing"
  [[ -n $errors && $(wc -l <<<"$errors") == 1 ]] || fail "$program did not print one line: '$errors'"
  # A filter that matches runs and exits 0, so the check above means something.
  "$program" --benchmark_list_tests=true >/dev/null 2>&1 || fail "$program --benchmark_list_tests failed"
done
echo "check_no_benchmark_matches: OK"
