#!/usr/bin/env bash
# GET /openapi.json of a real `semdb serve`, validated against the OpenAPI
# schemas by npm's @seriousme/openapi-schema-validator, which is installed
# into the build tree on the first run. Skipped (exit 77, with the reason)
# when npm cannot install it.
#   tests/openapi/openapi_test.sh BINARY_DIR SOURCE_DIR
set -euo pipefail
binary_dir="$1"
source_dir="$2"
tools="$binary_dir/npm-tools"
validator="$tools/node_modules/@seriousme/openapi-schema-validator/index.js"
if [ ! -f "$validator" ]; then
  if ! command -v npm > /dev/null ||
     ! npm install --prefix "$tools" --no-audit --no-fund --silent \
         @seriousme/openapi-schema-validator@2.11.0; then
    echo "SKIP: npm could not install @seriousme/openapi-schema-validator"
    exit 77
  fi
fi
work="$(mktemp -d)"
"$binary_dir/shell/semdb" serve "$work/db" --port 0 > "$work/out" &
pid=$!
trap 'kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  grep -q 'listening on' "$work/out" && break
  sleep 0.1
done
port="$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/out")"
node "$source_dir/tests/openapi/validate.mjs" "$validator" "http://127.0.0.1:$port/openapi.json"
