#!/usr/bin/env bash
# Cross-builds ag for arm64 (NEON through xsimd; no -march flags) with Debian's
# g++-aarch64-linux-gnu and arm64 multiarch libraries, and runs the tests under qemu-user.
#   scripts/test-arm64.sh              test_autograd, test_nn and test_nn_conv under qemu-aarch64
#   scripts/test-arm64.sh --gradcheck  only the op registry's gradcheck tests (the CI minimum)
# Installs what is missing (dpkg --add-architecture arm64, then apt-get). Build tree: build-arm64/.
set -euo pipefail
cd "$(dirname "$0")/.."

filter='test_autograd|test_nn'
for arg in "$@"; do
  case "$arg" in
    --gradcheck) filter='gradcheck' ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "test-arm64.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# libc6:arm64 and libstdc++6:arm64 give qemu a loader and C++ runtime matching the :arm64 libraries.
packages=(g++-aarch64-linux-gnu qemu-user libc6:arm64 libstdc++6:arm64 libopenblas-dev:arm64
          libtbb-dev:arm64 zlib1g-dev:arm64)
missing=()
for p in "${packages[@]}"; do
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" == installed ]] ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=(); [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  dpkg --print-foreign-architectures | grep -qx arm64 || "${sudo[@]}" dpkg --add-architecture arm64
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "${missing[@]}"
fi

start=$SECONDS
cmake -S . -B build-arm64 -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake \
  -DAG_BUILD_EXAMPLES=OFF -DAG_BUILD_BENCH=OFF -DAG_WITH_MPI=OFF
targets=(test_autograd test_nn test_nn_conv)
[[ $filter == gradcheck ]] && targets=(test_autograd)
cmake --build build-arm64 -j "${JOBS:-$(nproc)}" --target "${targets[@]}"
echo "== test-arm64: built in $((SECONDS - start)) s"
file build-arm64/tests/autograd/test_autograd | grep -q 'ARM aarch64' ||
  { echo "test-arm64: test_autograd is not an arm64 binary" >&2; exit 1; }
(cd build-arm64 && ctest --output-on-failure -j "${JOBS:-$(nproc)}" -R "$filter" \
  -E 'consumer|install|baseline_simd|cpu_without_avx')
echo "== test-arm64: passed in $((SECONDS - start)) s"
