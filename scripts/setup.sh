#!/usr/bin/env bash
# Installs the Debian packages semdb needs that are missing (apt-get, as root
# or through sudo), then configures and builds semdb in ./build (Release).
# Safe to run again: it installs nothing present and rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make pkg-config
  librocksdb-dev libfaiss-dev libopenblas-dev liblapacke-dev zlib1g-dev
  libabsl-dev catch2 libfmt-dev nlohmann-json3-dev libutf8proc-dev libedit-dev
  libcli11-dev libfasttext-dev libspdlog-dev libcpp-httplib-dev libstemmer-dev
  clang libclang-rt-14-dev  # the libFuzzer targets (scripts/fuzz.sh)
  python3                   # the Python client example's test
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "semdb: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_dir="${SEMDB_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build_dir" -j "$(nproc)"
