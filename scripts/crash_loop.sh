#!/usr/bin/env bash
# The long crash loop: kills a worker at random moments and at crash points
# inside index saves, refits and rebuilds, and checks the database after
# every kill (tests/stress/crash_stress.cc). The default suite runs 50 cycles.
#   scripts/crash_loop.sh [CYCLES=1000] [SEED=1]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh > /dev/null
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
OMP_WAIT_POLICY=PASSIVE build/tests/semdb_crash_stress loop "$dir" --cycles "${1:-1000}" --seed "${2:-1}"
