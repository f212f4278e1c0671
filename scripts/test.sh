#!/usr/bin/env bash
# Sets up and builds semdb, then runs the whole default test suite: ctest,
# the Python package's pytest tests, a short run of each libFuzzer target,
# then the handle-lifetime test under ASan in the same clang build.
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
# In fuzz.sh's clang build (build-fuzz/, ASan + UBSan), which also checks the
# lock annotations (-Werror=thread-safety): the collection handles that
# outlive their database, which must not reach freed memory.
cmake --build build-fuzz -j "$(nproc)" --target database_asan_test
ASAN_OPTIONS="detect_leaks=0:abort_on_error=0" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  build-fuzz/tests/fuzz/database_asan_test "[lifetime]"
