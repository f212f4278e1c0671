#!/usr/bin/env bash
# semdb and npm's @huggingface/hub (the Hub's own JavaScript library) share
# a Hugging Face cache, both ways:
# - a model semdb downloads (from tests/hub_server.py) is read back by the
#   library's scanCacheDir: it must find the repo, the commit with
#   refs/main, and every top-level file linked to a blob named as the Hub
#   names it, checked here with sha256sum (LFS files) and `git hash-object`
#   (the others);
# - a model the library's snapshotDownload put in a cache is used by semdb
#   with the server stopped and HF_HUB_OFFLINE=1.
# @huggingface/hub is installed into the build tree on the first run;
# skipped (exit 77, with the reason) when npm cannot install it.
#   tests/hub_cache/hub_cache_test.sh BINARY_DIR SOURCE_DIR
set -euo pipefail
binary_dir="$1"
source_dir="$2"
tools="$binary_dir/npm-hub"
hub="$tools/node_modules/@huggingface/hub"
if [ ! -f "$hub/package.json" ]; then
  if ! command -v npm > /dev/null ||
     ! npm install --prefix "$tools" --no-audit --no-fund --silent @huggingface/hub@2.17.5; then
    echo "SKIP: npm could not install @huggingface/hub"
    exit 77
  fi
fi
model="$source_dir/tests/data/bert_tiny"
work="$(mktemp -d)"
/usr/bin/python3 "$source_dir/tests/hub_server.py" --repo "test-org/bert-tiny=$model" \
  > "$work/port" &
pid=$!
trap 'kill "$pid" 2> /dev/null || true; wait "$pid" 2> /dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  [ -s "$work/port" ] && break
  sleep 0.1
done
export HF_ENDPOINT="http://127.0.0.1:$(cat "$work/port")" HF_HUB_CACHE="$work/hf"
unset HF_HUB_OFFLINE HF_TOKEN
"$binary_dir/shell/semdb" "$work/db" \
  -c 'create m --embedder transformer model=test-org/bert-tiny threads=1' > /dev/null
node "$source_dir/tests/hub_cache/scan_cache.mjs" "$hub" "$HF_HUB_CACHE" > "$work/scan.json"

# What the library should report, from the model folder itself.
for f in "$model"/*; do
  [ -f "$f" ] || continue
  case "$f" in
    *.safetensors) blob="$(sha256sum "$f" | cut -d' ' -f1)" ;;
    *) blob="$(git hash-object --no-filters "$f")" ;;
  esac
  echo "$(basename "$f") $blob $(stat -c %s "$f")"
done > "$work/expected_files"
commit="$(cat "$HF_HUB_CACHE/models--test-org--bert-tiny/refs/main")"
/usr/bin/python3 - "$work/scan.json" "$work/expected_files" "$commit" <<'PY'
import json, sys
scan = json.load(open(sys.argv[1]))
files = [dict(zip(("path", "blob", "size"), line.split())) for line in open(sys.argv[2])]
for f in files:
    f["size"] = int(f["size"])
expected = {"repos": [{"id": {"name": "test-org/bert-tiny", "type": "model"},
                       "revisions": [{"commit": sys.argv[3], "refs": ["main"],
                                      "files": sorted(files, key=lambda f: f["path"])}]}],
            "warnings": []}
if scan != expected:
    print("scanCacheDir found:\n%s\nexpected:\n%s" % (json.dumps(scan, indent=1),
                                                      json.dumps(expected, indent=1)))
    sys.exit(1)
print("@huggingface/hub scanCacheDir reads semdb's download: %d files, commit %s"
      % (len(files), sys.argv[3]))
PY

node "$source_dir/tests/hub_cache/fill_cache.mjs" "$hub" "$HF_ENDPOINT" test-org/bert-tiny \
  "$work/js" > "$work/js.out" 2> "$work/js.err" || { cat "$work/js.err"; exit 1; }
kill "$pid"
wait "$pid" 2> /dev/null || true
HF_HUB_OFFLINE=1 HF_HUB_CACHE="$work/js" "$binary_dir/shell/semdb" "$work/db2" --json \
  -c 'create m --embedder transformer model=test-org/bert-tiny threads=1' \
  -c 'insert The central bank raised interest rates --id bank' \
  -c 'insert Bushfires burned forests near the town --id fire' \
  -c 'search The central bank raised interest rates --k 1 --hybrid 0' > "$work/search.out"
tail -n 1 "$work/search.out" | grep -q '"id":"bank"' || { cat "$work/search.out"; exit 1; }
echo "semdb searches offline with the model @huggingface/hub downloaded: $(tail -n 1 "$work/js.out")"
