#!/usr/bin/env bash
# Installs semdb from the build tree into a temporary prefix, builds the
# examples against it with find_package(semdb) as an outside project would,
# and runs them: quickstart twice (the second run must find what the first
# stored); then, when the shared data is there, folder_qa on a folder of two
# long articles and rag_prompt on the database it made.
set -euo pipefail
build_dir="$1"
source_dir="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" > /dev/null
for example in quickstart rag; do
  cmake -S "$source_dir/examples/$example" -B "$work/build-$example" \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$work/build-$example" -j 2 > /dev/null
done
"$work/build-quickstart/quickstart" "$work/db"
"$work/build-quickstart/quickstart" "$work/db" | grep -q "^4 documents$"
test -x "$work/prefix/bin/semdb"

# Without CMake: the shared library through pkg-config, as a Makefile would.
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
g++ -std=c++20 -O1 -o "$work/quickstart-shared" "$source_dir/examples/quickstart/quickstart.cc" \
  $(pkg-config --cflags --libs semdb)
linked="$(ldd "$work/quickstart-shared" | awk '$1 == "libsemdb.so.0" {print $3}')"
test "$(readlink -f "$linked")" = "$(readlink -f "$work/prefix/lib/libsemdb.so.0")"
"$work/quickstart-shared" "$work/db-shared"
"$work/quickstart-shared" "$work/db-shared" | grep -q "^4 documents$"

shared="$source_dir/../shared/data/gensim"
if [ ! -f "$shared/para2para_text1.txt" ]; then
  echo "skipped the RAG examples: shared data $shared not found"
  exit 0
fi
mkdir "$work/folder"
cp "$shared/para2para_text1.txt" "$work/folder/new_york.txt"
cp "$shared/para2para_text2.txt" "$work/folder/berlin.txt"
"$work/build-rag/folder_qa" "$work/rag.semdb" "$work/folder" \
  "What is the capital of Germany?" "Which states border New York to the east?" \
  > "$work/qa.txt"
cat "$work/qa.txt"
grep -q "^imported 2 documents" "$work/qa.txt"
# The first answer to each question comes from the right article.
grep -A1 "^Q: What is the capital of Germany" "$work/qa.txt" | grep -q "^\[1\] .*/berlin.txt bytes"
grep -A1 "^Q: Which states border New York" "$work/qa.txt" | grep -q "^\[1\] .*/new_york.txt bytes"
"$work/build-rag/rag_prompt" "$work/rag.semdb" "What is the capital of Germany?" 200 \
  > "$work/prompt.txt" 2> "$work/err.txt"
cat "$work/prompt.txt" "$work/err.txt"
grep -q "^\[1\] .*/berlin.txt, bytes [0-9]*-[0-9]*$" "$work/prompt.txt"
grep -q "LLM hand-off" "$work/err.txt"
test "$(wc -w < "$work/prompt.txt")" -le 200
