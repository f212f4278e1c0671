#!/usr/bin/env bash
# Installs the Debian packages semdb needs that are missing (apt-get, as root
# or through sudo), then configures and builds semdb in ./build (Release).
#   scripts/setup.sh          everything: library, shell, tests, benchmarks
#   scripts/setup.sh shell    only the shell (what scripts/run.sh needs)
# Safe to run again: it installs nothing present and rebuilds incrementally;
# with nothing changed it returns in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
# ccache (when installed) rewrites paths below this checkout as relative
# ones, so that another clone of the project reuses its compilations.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"

packages=(
  g++ cmake make pkg-config
  librocksdb-dev libfaiss-dev libopenblas-dev liblapacke-dev zlib1g-dev
  libabsl-dev catch2 libfmt-dev nlohmann-json3-dev libutf8proc-dev libedit-dev
  libcli11-dev libfasttext-dev libmicrohttpd-dev libstemmer-dev
  libzip-dev                # pytorch_model.bin checkpoints are zip archives
  libdnnl-dev               # oneDNN: the transformer's bf16 GEMMs
  libspdlog-dev             # the library's log (src/operation_log.h)
  libcurl4-openssl-dev libssl-dev  # model downloads from the Hugging Face Hub, their sha256
  libcpp-httplib-dev        # the HTTP client of the tests and the load benchmark
  libhnswlib-dev            # the peer in bench/ann_comparison (header-only)
  clang libclang-rt-14-dev  # the libFuzzer targets (scripts/fuzz.sh)
  python3                   # the Python client example's test
  pybind11-dev python3-dev python3-numpy python3-pytest  # the Python package and its tests
  python3-dask python3-distributed python3-pandas  # semdb.distributed (sharding over Dask)
  python3-faiss             # the distributed IVF test reads the model's centroids with FAISS
)

# One dpkg-query for all of them: the check costs milliseconds.
installed="$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null \
             | awk '/install ok installed/ {print $1}')" || true
missing=()
for p in "${packages[@]}"; do
  grep -qx "$p" <<< "$installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "semdb: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}"
fi

build_dir="${SEMDB_BUILD_DIR:-build}"
case "$what" in
  all)
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
      -DSEMDB_BUILD_TESTS=ON -DSEMDB_BUILD_BENCH=ON > /dev/null
    cmake --build "$build_dir" -j "$(nproc)"
    # The Python package into the interpreter's site directory under
    # /usr/local, so that `python3 -c "import semdb"` works from any folder.
    if [ -d "$build_dir/python/semdb" ]; then
      if [ "$(id -u)" -eq 0 ]; then
        cmake --install "$build_dir" --component python > /dev/null
      elif sudo -n true 2> /dev/null; then
        sudo cmake --install "$build_dir" --component python > /dev/null
      else
        echo "semdb: to import semdb from any folder: sudo cmake --install $build_dir --component python"
      fi
    fi
    ;;
  shell)
    # Configure once; later builds re-run CMake by themselves when a
    # CMakeLists.txt changed.
    if [ ! -f "$build_dir/CMakeCache.txt" ]; then
      cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release > /dev/null
    fi
    cmake --build "$build_dir" -j "$(nproc)" --target semdb_shell
    ;;
  *)
    echo "usage: scripts/setup.sh [all|shell]" >&2
    exit 2
    ;;
esac
