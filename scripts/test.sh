#!/usr/bin/env bash
# Set up, build, and run the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd "${MGA_BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
