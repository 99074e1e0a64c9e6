#!/usr/bin/env bash
# The main demo in one command: install what is missing, build Release in build/, and train the
# Fashion-MNIST classifier with its default settings. Extra arguments go to the example.
# It runs inside build/, so its outputs (fashion_mnist_loss.png, fashion_mnist.npz) land there
# and not in the source tree.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$(nproc)" --target fashion_mnist
cd build
./examples/fashion_mnist "$@"
