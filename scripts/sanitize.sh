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
    thread) dir=build-tsan; tests="concurrency|database|shell"; exclude="example_find_package" ;;
    *) echo "usage: $0 [address|thread]..." >&2; exit 2 ;;
  esac
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEMDB_SANITIZE="$kind" > /dev/null
  cmake --build "$dir" -j "$(nproc)"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer/lsan.supp"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizer/tsan.supp"
  export OMP_WAIT_POLICY=PASSIVE
  ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" --timeout 1800 \
    ${tests:+-R "$tests"} -E "$exclude"
done
