#!/usr/bin/env bash
# Sets up and builds semdb, then runs the whole default test suite: ctest,
# then a short run of each libFuzzer target.
# Long stress, fuzz and benchmark runs are separate commands (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
ctest --test-dir "${SEMDB_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
# A short run of every fuzz target (long runs: scripts/fuzz.sh 3600).
scripts/fuzz.sh 8
