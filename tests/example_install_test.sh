#!/usr/bin/env bash
# Installs semdb from the build tree into a temporary prefix, builds the
# quickstart example against it with find_package(semdb), and runs it twice
# (the second run must find what the first stored).
set -euo pipefail
build_dir="$1"
source_dir="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" > /dev/null
cmake -S "$source_dir/examples/quickstart" -B "$work/build" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$work/build" -j 2 > /dev/null
"$work/build/quickstart" "$work/db"
"$work/build/quickstart" "$work/db" | grep -q "^4 documents$"
test -x "$work/prefix/bin/semdb"
