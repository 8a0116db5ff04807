#!/usr/bin/env bash
# The main job: set up, build, then train microgpt with every allocation policy
# (each run in a fresh process) and print the comparison table. Extra
# arguments go to bench_train, e.g. scripts/run.sh --repeat 5 --json out.json
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The dataset: bench_train's location rule (../shared/data/names.txt, else data/names.txt).
exec "${MGA_BUILD_DIR:-build}/bench_train" --allocator=all --repeat 3 "$@"
