#!/usr/bin/env bash
# Every test in one command: install what is missing, build Release in build/ and run ctest, then
# build build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer and run ctest there too,
# then the ThreadSanitizer suite (build-tsan/), then every libFuzzer harness for 60 s with ASan +
# UBSan (scripts/fuzz.sh, build-fuzz/).
#   --no-sanitize     skip the sanitizer, TSan and fuzzer runs (quick local check)
#   --no-fuzz         skip only the fuzzers
#   --compiler clang  build with clang++ instead of g++ (build-clang/, build-asan-clang/)
#   --docs            also build the API reference (Doxygen; a warning fails the run)
#   --format          also check clang-format (scripts/format.sh --check)
# Exits non-zero when any build or test fails. A failing Release suite does not stop the sanitizer
# run: CI shows every failure at once.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=1
compiler=gcc
docs=0
format=0
fuzz=1
args=("$@")
for ((i = 0; i < ${#args[@]}; ++i)); do
  arg=${args[i]}
  case "$arg" in
    --no-sanitize) sanitize=0 ;;
    --compiler) compiler=${args[++i]:-}; [[ $compiler == gcc || $compiler == clang ]] ||
                  { echo "test.sh: --compiler takes gcc or clang" >&2; exit 2; } ;;
    --docs) docs=1 ;;
    --format) format=1 ;;
    --no-fuzz) fuzz=0 ;;
    --fuzz) fuzz=1 ;;  # the default; kept for old command lines
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

./scripts/setup.sh
jobs=$(nproc)
# Paths relative to this checkout in ccache's hashes: another clone of the repository (CI's, a
# second worktree) reuses the objects this one compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
start=$SECONDS
phase() { echo "== [$((SECONDS - start)) s] $*"; }
failed=()
# clang++ gets trees of its own, so the g++ trees (and their ccache entries) stay as they are.
suffix=""
if [[ $compiler == clang ]]; then
  export CC=clang CXX=clang++
  suffix=-clang
fi

if ((format)); then
  phase "clang-format check"
  ./scripts/format.sh --check || failed+=("clang-format")
fi

# -Werror for the library's own sources: a new warning fails CI at once (tests and examples get
# the same warnings, without -Werror).
phase "Release build (build$suffix/, $compiler)"
cmake -S . -B "build$suffix" -DCMAKE_BUILD_TYPE=Release -DAG_WERROR=ON
cmake --build "build$suffix" -j "$jobs"
phase "Release tests"
(cd "build$suffix" && ctest --output-on-failure -j "$jobs") || failed+=("Release tests")

if ((docs)); then
  phase "API reference (Doxygen, warnings are errors)"
  cmake --build "build$suffix" --target docs || failed+=("API docs")
fi

if ((sanitize)); then
  # -O1 keeps the sanitized suite fast enough for the big examples; -g gives readable reports.
  # The benchmarks were built above; instrumenting them (and LibTorch's headers) adds nothing.
  # Without ccache's hash_dir, the consumer test's add_subdirectory build of the library reuses
  # these objects although they carry -g (the directory differs, the compile does not).
  export CCACHE_NOHASHDIR=1
  phase "ASan + UBSan build (build-asan$suffix/)"
  cmake -S . -B "build-asan$suffix" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAG_SANITIZE=ON -DAG_BUILD_BENCH=OFF \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g -DXTENSOR_ENABLE_ASSERT"
  cmake --build "build-asan$suffix" -j "$jobs"
  phase "ASan + UBSan tests"
  (cd "build-asan$suffix" &&
   ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1 \
   UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   ctest --output-on-failure -j "$jobs") || failed+=("ASan + UBSan tests")
fi

if ((sanitize)); then
  # ThreadSanitizer: the core and nn suites plus the concurrency contract's tests (test_threads,
  # 4 threads per case). -O1 and only these targets keep the phase to a few minutes; the
  # single-threaded million-op chain test alone takes 5 minutes under TSan and is left to the
  # other two runs. The only suppression is for frames in oneTBB's uninstrumented library
  # (scripts/tsan.supp says why); history_size=7 keeps the worker's stack in each report, which
  # is where those frames are.
  phase "TSan build (build-tsan/)"
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAG_BUILD_BENCH=OFF \
    -DAG_BUILD_EXAMPLES=OFF "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g -fsanitize=thread" \
    -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread
  cmake --build build-tsan -j "$jobs" --target test_threads test_autograd test_nn
  phase "TSan tests"
  (cd build-tsan &&
   TSAN_OPTIONS="halt_on_error=1:history_size=7:second_deadlock_stack=1:suppressions=$PWD/../scripts/tsan.supp" \
   ctest --output-on-failure -j "$jobs" -R '^test_(threads|autograd|nn):' -E '1,000,000 ops') ||
    failed+=("TSan tests")

fi
if ((sanitize && fuzz)); then
  # libFuzzer with ASan + UBSan: every harness for 60 s (scripts/fuzz.sh builds build-fuzz/).
  phase "Fuzzers (build-fuzz/, 60 s per harness)"
  ./scripts/fuzz.sh 60 || failed+=("Fuzzers")
fi

if ((${#failed[@]})); then
  phase "FAILED: ${failed[*]}"
  exit 1
fi
phase "all tests passed"
