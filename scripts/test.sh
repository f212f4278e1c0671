#!/usr/bin/env bash
# Sets up and builds semdb, then runs the whole default test suite: ctest,
# the Python package's pytest tests, then a short run of each libFuzzer
# target.
# Long stress, fuzz and benchmark runs are separate commands (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
build_dir="${SEMDB_BUILD_DIR:-build}"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
# The Python package's tests on the build tree, with Debian's interpreter
# (skips are listed with their reasons; pytest's exit status 5, no test
# collected, fails like any other).
SEMDB_BUILD_DIR="$build_dir" /usr/bin/python3 -m pytest -p no:cacheprovider -q -rs python/tests
# A short run of every fuzz target (long runs: scripts/fuzz.sh 3600).
scripts/fuzz.sh 8
