#!/usr/bin/env bash
# The main demo in one command: install what is missing, build Release in build/, and train the
# Fashion-MNIST classifier with its default settings. Extra arguments go to the example.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs" --target fashion_mnist
./build/examples/fashion_mnist "$@"
