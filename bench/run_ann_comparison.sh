#!/usr/bin/env bash
# Runs semdb's index core against hnswlib (-O3 -march=native) and raw FAISS
# on both synthetic data sets and writes the tables to bench/results/:
#
#   bench/run_ann_comparison.sh [ROWS]     # default 100000 vectors x 128
#
# A few minutes per data set on 2 cores. Prints the core count and the
# OpenBLAS kernels in use; leaves OPENBLAS_* settings as the caller set them.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-100000}"
build_dir="${SEMDB_BUILD_DIR:-build}"
export OMP_WAIT_POLICY=PASSIVE
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DSEMDB_BUILD_BENCH=ON > /dev/null
cmake --build "$build_dir" -j "$(nproc)" --target ann_comparison > /dev/null
mkdir -p bench/results
echo "cores: $(nproc)"
for data in clustered latent; do
  "$build_dir/bench/ann_comparison" --data "$data" --rows "$rows" \
    --out "bench/results/ann_comparison_${data}.md"
done
