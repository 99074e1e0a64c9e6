#!/usr/bin/env bash
# Installs what ag needs on Debian 12 with apt-get, and nothing when it is all there already.
# Used by scripts/demo.sh and scripts/test.sh; safe to run any number of times.
set -euo pipefail

packages=(
  build-essential cmake ccache               # compiler and build
  pkg-config                                  # the consumer test that builds with ag.pc
  qemu-user                                   # kernel tests on a CPU without AVX; arm64 tests
  xtensor-dev xtl-dev libxsimd-dev            # n-d arrays and SIMD kernels
  libopenblas-dev                             # matmul and LAPACK through OpenBLAS (not the reference BLAS)
  libtbb-dev                                  # threads inside kernels
  libdnnl-dev                                 # float32 convolutions on oneDNN (optional: else im2col)
  catch2                                      # tests (Catch2 2.x)
  zlib1g-dev                                  # reading .gz datasets
  libstb-dev                                  # image output in examples
  graphviz                                    # rendering graph dumps to SVG/PNG
  doxygen                                     # the API reference (the docs target)
  chromium                                    # the browser test of the backward page (headless)
  nodejs                                      # drives that browser test (DevTools protocol)
  dataset-fashion-mnist                       # the demo's data
  python3-numpy                               # helper scripts
  clang-14 libclang-rt-14-dev                 # libFuzzer harnesses (scripts/fuzz.sh)
  clang                                       # clang++ (14): test.sh's clang++ build
  libopenmpi-dev openmpi-bin                  # ag::dist: data-parallel training (mpirun)
  # The arm64 cross-build and its tests under qemu-user (scripts/test-arm64.sh). The :arm64
  # packages need the arm64 architecture in dpkg, added below before apt-get update.
  g++-aarch64-linux-gnu libc6:arm64 libstdc++6:arm64
  libopenblas-dev:arm64 libtbb-dev:arm64 zlib1g-dev:arm64
)

# A name without an architecture means this machine's own (or an arch-all package): with arm64
# installed too, dpkg-query lists one line per architecture.
native=$(dpkg --print-architecture)
installed() {
  if [[ $1 == *:* ]]; then
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
  else
    dpkg-query -W -f='${Architecture} ${db:Status-Status}\n' "$1" 2>/dev/null |
      grep -Ex "($native|all) installed" >/dev/null
  fi
}
missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "setup: missing packages (${missing[*]}) and neither root nor sudo available" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [[ " ${missing[*]}" == *:arm64* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  "${sudo[@]}" dpkg --add-architecture arm64
fi
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
