#!/usr/bin/env bash
# The README demo's test accuracy over seeds, ag against LibTorch with the same network, data and
# settings (784-100-10 sigmoid, SGD lr 0.1, batch 32, 5 epochs, one thread each): for each seed
# it runs examples/fashion_mnist and bench/torch_fashion_mnist one after the other, then prints
# every accuracy and the two medians. Accuracy does not depend on load, so any machine will do.
#   bench/demo_accuracy.sh [BUILD_DIR] [SEEDS...]     default: build 0 1 2 3 4 5
# BUILD_DIR must be configured with -DAG_BUILD_BENCH=ON where libtorch-dev is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
seeds=("$@")
((${#seeds[@]})) || seeds=(0 1 2 3 4 5)

cmake --build "$build" -j 2 --target fashion_mnist torch_fashion_mnist
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
settings=(--epochs 5 --batch 32 --lr 0.1 --threads 1)
ag=() torch=()
for seed in "${seeds[@]}"; do
  a=$("$build/examples/fashion_mnist" "${settings[@]}" --seed "$seed" --out "$out" |
      sed -n 's/^test accuracy: //p')
  t=$("$build/bench/torch_fashion_mnist" "${settings[@]}" --seed "$seed" |
      sed -n 's/^test accuracy: //p')
  echo "seed $seed: ag $a  LibTorch $t"
  ag+=("$a") torch+=("$t")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
  printf "%.5f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median over seeds ${seeds[*]}: ag $(median "${ag[@]}")  LibTorch $(median "${torch[@]}")"
