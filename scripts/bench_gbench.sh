#!/usr/bin/env bash
# Runs the Google Benchmark programs (bench_alloc, bench_step) with 5
# repetitions in random interleaved order and writes their aggregates (mean,
# median, stddev, cv) as JSON to results/gbench/. Builds them first if needed.
#
#   scripts/bench_gbench.sh [extra --benchmark_* flags for both programs]
#
# Environment: BUILD_DIR (default build), OUT_DIR (default results/gbench),
# PROGRAMS (default "bench_alloc bench_step": the programs to run, e.g. just
# bench_alloc with a --benchmark_filter only it matches),
# MGA_DATA (dataset for bench_step and step_graph; default /work/shared/data/names.txt).
# Takes about 3-4 minutes on 2 cores.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
out_dir=${OUT_DIR:-$repo/results/gbench}

# Always ask the build system: it does nothing when the programs are up to date.
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build_dir" -j2 --target bench_alloc bench_step

mkdir -p "$out_dir"
read -ra programs <<<"${PROGRAMS:-bench_alloc bench_step}"
for program in "${programs[@]}"; do
  [[ $program == bench_alloc || $program == bench_step ]] ||
    { echo "bench_gbench.sh: PROGRAMS: unknown program '$program' (bench_alloc, bench_step)" >&2; exit 2; }
  final=$out_dir/$program.json
  # The temporary file sits next to the final one so that mv is a rename.
  tmp=$(mktemp "$out_dir/.$program.XXXXXX.tmp")
  trap 'rm -f "$tmp"' EXIT
  echo "== $program -> $final" >&2
  "$build_dir/$program" \
    --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out_format=json \
    --benchmark_out="$tmp" \
    "$@"
  chmod 644 "$tmp"
  mv "$tmp" "$final"
  trap - EXIT
done
