#!/usr/bin/env bash
# The Python example (standard library only) against the real `semdb serve`:
# it loads the Wikipedia articles over HTTP with an API key and prints a
# cited prompt for a question; a wrong key fails cleanly; SIGTERM stops the
# server with status 0. Exit 77 (skipped) without /usr/bin/python3 or the
# shared data.
set -euo pipefail
binary_dir="$1"
source_dir="$2"
dump="$source_dir/../shared/data/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
if [ ! -x /usr/bin/python3 ]; then echo "skipped: /usr/bin/python3 is missing"; exit 77; fi
if [ ! -f "$dump" ]; then echo "skipped: shared data $dump not found"; exit 77; fi
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

/usr/bin/python3 "$source_dir/scripts/wikipedia_to_text.py" "$dump" "$work/articles" > /dev/null
"$binary_dir/shell/semdb" serve "$work/db" --port 0 --api-key test-key > "$work/server.out" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/server.out" && break
  sleep 0.1
done
port="$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$work/server.out")"
test -n "$port"
export SEMDB_URL="http://127.0.0.1:$port"

question="Which philosopher tutored Alexander the Great and studied under Plato?"
SEMDB_API_KEY=test-key /usr/bin/python3 "$source_dir/examples/python/semdb_rag_http.py" \
  --load "$work/articles" --budget 300 "$question" > "$work/prompt.txt" 2> "$work/err.txt"
cat "$work/err.txt"
head -c 1500 "$work/prompt.txt"
grep -q "^loaded 10[0-9] documents" "$work/err.txt"
grep -q "^Question: $question\$" "$work/prompt.txt"
grep -q "^\[1\] $work/articles/Aristotle.txt, bytes [0-9]*-[0-9]*\$" "$work/prompt.txt"
grep -q "^\[2\] " "$work/prompt.txt"
grep -q "LLM hand-off" "$work/err.txt"
words="$(wc -w < "$work/prompt.txt")"
echo "prompt words: $words"
test "$words" -le 300

# A wrong key: a clear error and exit status 1, not a traceback.
if SEMDB_API_KEY=wrong /usr/bin/python3 "$source_dir/examples/python/semdb_rag_http.py" "$question" \
  > /dev/null 2> "$work/err.txt"; then
  echo "a wrong key was accepted"; exit 1
fi
grep -q "^semdb: 401 unauthorized: wrong API key" "$work/err.txt"

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
test "$status" -eq 0
grep -q "stopped, database saved" "$work/server.out"
echo "python client test passed"
