#!/usr/bin/env bash
# The long fault loop of semdb.distributed (the default test suite runs one
# round): ROUNDS times (default 20), the kill-a-worker tests on a fresh
# LocalCluster of 3 worker processes, each time killing the worker during
# the ingest after a random number of acknowledged documents (10..280).
# Every round checks that no acknowledged write is lost and that queries in
# the outage fail clearly or come back marked partial.
#   scripts/dask_fault_loop.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-20}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
build_dir="${SEMDB_BUILD_DIR:-build}"
for round in $(seq 1 "$rounds"); do
  kill_at=$((10 + RANDOM % 271))
  echo "round $round/$rounds: kill after $kill_at acknowledged documents"
  SEMDB_FAULT_KILL_AT="$kill_at" SEMDB_BUILD_DIR="$build_dir" /usr/bin/python3 -m pytest \
    -p no:cacheprovider -q python/tests/test_distributed_faults.py
done
echo "$rounds rounds passed"
