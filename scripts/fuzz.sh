#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs
# each for SECONDS (default 10: the short run of the default test suite;
# long runs pass e.g. 3600). Seeds come from tests/fuzz/seeds/ and the shared
# reference data; the corpora grow in build-fuzz/corpus/. A crash stops the
# run with the fuzzer's report and leaves the input in build-fuzz/findings/.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
shift || true
root="$PWD"
shared="$root/../shared/data"
# ccache (when installed) rewrites paths below this checkout as relative
# ones, so that another clone of the project reuses its compilations.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"

scripts/setup.sh > /dev/null  # also installs clang

cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEMDB_FUZZ=ON -DSEMDB_BUILD_TESTS=OFF > /dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_csv fuzz_fasttext fuzz_filter fuzz_import fuzz_model_folder fuzz_safetensors
           fuzz_shell fuzz_word_vectors fuzz_wordpiece fuzz_http_api fuzz_http_request)
fi
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]}"

# Seeds from the shared data, where the folder is present.
seed_shared() {  # target file...
  local dir="build-fuzz/corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && head -c 65536 "$f" > "$dir/shared-$(basename "$f")"; done
  return 0
}
seed_shared fuzz_word_vectors "$shared/gensim/test_glove.txt" "$shared/gensim/high_precision.kv.bin" \
  "$shared/gensim/high_precision.kv.txt" "$shared/gensim/pretrained.vec" "$shared/gensim/euclidean_vectors.bin"
seed_shared fuzz_fasttext "$shared/gensim/toy-model.bin" "$shared/gensim/crime-and-punishment.bin" \
  "$shared/gensim/non_ascii_fasttext.bin"
seed_shared fuzz_import "$shared/gensim/lee.cor"
seed_shared fuzz_safetensors "$root/tests/data/bert_tiny_half/model.safetensors"
seed_shared fuzz_model_folder "$root/tests/data/bert_tiny/config.json" "$root/tests/data/bert_tiny_half/config.json"
if [ -f "$shared/wordpiece/golden.jsonl" ]; then
  mkdir -p build-fuzz/corpus/fuzz_wordpiece
  head -c 4000 "$shared/wordpiece/golden.jsonl" > build-fuzz/corpus/fuzz_wordpiece/shared-golden-head
fi

mkdir -p build-fuzz/findings build-fuzz/logs
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
printf '%-20s %10s %8s %8s %s\n' target runs seconds corpus result
status=0
for t in "${targets[@]}"; do
  corpus="build-fuzz/corpus/$t"
  mkdir -p "$corpus"
  [ -d "tests/fuzz/seeds/$t" ] && cp -n tests/fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
  log="build-fuzz/logs/$t.log"
  result=ok
  if ! "build-fuzz/tests/fuzz/$t" "$corpus" -max_total_time="$seconds" -timeout=20 \
       -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix="build-fuzz/findings/$t-" > "$log" 2>&1; then
    result="CRASH (see $log)"
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  printf '%-20s %10s %8s %8s %s\n' "$t" "$runs" "$seconds" "$(ls "$corpus" | wc -l)" "$result"
done
exit $status
