#!/usr/bin/env bash
# Sets up and builds semdb, then starts the shell. With no arguments the
# database is ./semdb_data in the current directory, with a default TF-IDF
# collection; arguments are passed to the shell (e.g. a database path).
set -euo pipefail
here="$(pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh" shell
cd "$here"
# Passive OpenMP waiting: spinning libgomp threads fight OpenBLAS's.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
# Debian 12's OpenBLAS does not recognise recent AVX-512 CPUs and falls back
# to its AVX2 kernels; its SkylakeX kernels run about twice as fast there.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q -w avx512bw /proc/cpuinfo 2>/dev/null \
   && grep -q -w avx512vl /proc/cpuinfo && grep -q -w avx512dq /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
exec "$root/${SEMDB_BUILD_DIR:-build}/shell/semdb" "$@"
