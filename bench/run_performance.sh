#!/usr/bin/env bash
# Runs every comparison of semdb's core against the libraries a user would
# pick instead, and writes each one's table to bench/results/:
#
#   bench/run_performance.sh [--rows N] [--only a,b,...]
#
#   ann        HNSW against hnswlib (-O3 -march=native) and raw FAISS, two
#              data sets           -> ann_comparison_{clustered,latent}.md
#   overhead   search through a collection against raw FAISS on the same
#              saved index          -> search_overhead.md
#   batch      batched queries against FAISS batches   -> batch_search.txt
#   ingest     pre-embedded vectors against FAISS add + a file -> ingest.txt
#   import     text import against scikit-learn + FAISS + JSON Lines
#                                   -> text_import.txt
#   filtered   filtered search, every strategy and the planner's choice
#                                   -> filtered_bench.{md,json}
#
# --rows (default 100000) sizes the vector benchmarks; the text import uses
# 10,000 lines. All of it takes about an hour on an idle 2-core machine
# (--only picks some). The vector benchmarks' peers run in the same process
# or script, interleaved, best of N. Prints the core count, the load average
# before and after each part, and the OpenBLAS kernels; OPENBLAS_* settings
# are left as the caller set them.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=100000
only="ann,overhead,batch,ingest,import,filtered"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
build_dir="${SEMDB_BUILD_DIR:-build}"
export OMP_WAIT_POLICY=PASSIVE
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DSEMDB_BUILD_BENCH=ON > /dev/null
cmake --build "$build_dir" -j "$(nproc)" --target ann_comparison search_overhead_bench \
  batch_search_bench ingest_bench tfidf_stage_bench semdb_filtered_bench semdb_shell > /dev/null
mkdir -p bench/results
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
echo "cores: $(nproc); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}"

# Runs part $1 (if --only names it) as the rest of the arguments.
part() {
  local name="$1"
  shift
  [[ ",$only," == *",$name,"* ]] || return 0
  echo "== $name: load average $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M:%S)"
  "$@"
  echo "== $name done: load average $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M:%S)"
}

part ann bench/run_ann_comparison.sh "$rows"
part overhead "$build_dir/bench/search_overhead_bench" --rows "$rows" \
  --db-dir "$scratch/overhead" --out bench/results/search_overhead.md
part batch bash -c "'$build_dir/bench/batch_search_bench' --rows $rows --db-dir '$scratch/batch' \
  | tee bench/results/batch_search.txt"
part ingest bash -c "'$build_dir/bench/ingest_bench' --rows $rows --work '$scratch/ingest' --store \
  | tee bench/results/ingest.txt"
part import bash -c "/usr/bin/python3 bench/text_import_bench.py --build '$build_dir' \
  | tee bench/results/text_import.txt"
part filtered "$build_dir/bench/semdb_filtered_bench" --rows "$rows" --db-dir "$scratch/filtered" \
  --out bench/results/filtered_bench.md
