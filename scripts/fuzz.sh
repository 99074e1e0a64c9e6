#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/) with clang in build-fuzz/ (the library too:
# coverage instrumentation and ASan + UBSan need every object built by clang), then runs each
# harness for N seconds from its committed seed corpus.
#   scripts/fuzz.sh [seconds per harness, default 60] [harness ...]   (npz idx csv ops)
# New inputs go to build-fuzz/corpus/<harness>/, never into the committed seeds. A crash, a
# sanitizer report, an exception other than ag::Error, a timeout or an allocation past the
# limits stops that harness, leaves the input in build-fuzz/ (crash-*, oom-*, timeout-*) and
# makes the script exit non-zero. The last lines per harness give executions and coverage.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(npz idx csv ops)

export CCACHE_BASEDIR=$PWD
# Debian's clang-14 package (scripts/setup.sh) installs clang++-14; FUZZ_CXX picks another.
cmake -S tests/fuzz -B build-fuzz -DCMAKE_CXX_COMPILER="${FUZZ_CXX:-clang++-14}" >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${harnesses[@]/#/fuzz_}"

failed=()
for h in "${harnesses[@]}"; do
  work=build-fuzz/corpus/$h
  mkdir -p "$work"
  echo "== fuzz_$h: $seconds s"
  # -rss_limit_mb/-malloc_limit_mb: a harness input is a few KiB; anything near 2 GiB is a bug.
  # The fuzzer's exit status decides; the log is filtered afterwards for the summary lines.
  rc=0
  (cd build-fuzz &&
   UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
   ./fuzz_"$h" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
     -max_len=4096 -print_final_stats=1 "corpus/$h" "../tests/fuzz/corpus/$h" \
     >"fuzz_$h.log" 2>&1) || rc=$?
  grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|ERROR|Deadly|crash-|stat::number_of_executed_units|stat::peak_rss" \
    "build-fuzz/fuzz_$h.log" || true
  if ((rc)); then
    echo "fuzz_$h: exit status $rc; last lines of build-fuzz/fuzz_$h.log:" >&2
    tail -n 40 "build-fuzz/fuzz_$h.log" >&2
    failed+=("$h")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (inputs and logs in build-fuzz/)" >&2
  exit 1
fi
echo "fuzz: all harnesses ran $seconds s without a finding"
