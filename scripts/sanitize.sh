#!/usr/bin/env bash
# Sanitizer builds of the test suite:
#   scripts/sanitize.sh address   ASan + UBSan, the whole suite (build-asan/)
#   scripts/sanitize.sh thread    TSan, the concurrency tests (build-tsan/)
#   scripts/sanitize.sh           both
# Third-party libraries (RocksDB, FAISS, OpenBLAS) are not instrumented;
# tests/sanitizer/*.supp lists what is suppressed in them, and why.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh > /dev/null
kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(address thread)
for kind in "${kinds[@]}"; do
  case "$kind" in
    # The installed-package test builds an uninstrumented program against
    # the instrumented libraries: not meaningful here.
    address) dir=build-asan; tests=""; exclude="example_find_package" ;;
    # TSan: the tests that run threads or several processes.
    # (Not `semdb serve`: TSan defers a signal handler until its thread leaves
    # a blocking call, so the server never sees the SIGTERM of the clean-stop
    # test.)
    thread) dir=build-tsan; tests="concurrent|searches go on|while a text collection refits|crash_loop"; exclude="example_find_package|semdb serve" ;;
    *) echo "usage: $0 [address|thread]..." >&2; exit 2 ;;
  esac
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEMDB_SANITIZE="$kind" -DSEMDB_BUILD_TESTS=ON > /dev/null
  cmake --build "$dir" -j "$(nproc)"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer/lsan.supp"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizer/tsan.supp"
  export OMP_WAIT_POLICY=PASSIVE
  if [ "$kind" = thread ]; then
    # No OpenMP or OpenBLAS worker threads: they synchronize inside
    # uninstrumented libraries (libgomp, OpenBLAS), which TSan cannot see,
    # and would only report those libraries' own work. semdb's threads,
    # RocksDB's and the HTTP server's remain.
    export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
  fi
  ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --timeout 1800 \
    ${tests:+-R "$tests"} -E "$exclude"
done
