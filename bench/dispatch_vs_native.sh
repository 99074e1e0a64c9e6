#!/usr/bin/env bash
# The portable build (SIMD kernels chosen at run time, the rest at the x86-64 baseline) against
# the single-ISA build (AG_NATIVE=ON with -march=x86-64-v3, what ag shipped before), on ag_bench's
# workloads. Builds both under build-bench-dispatch/ and build-bench-native/, runs them
# alternately for several rounds (so machine load hits both alike) and prints, per workload, the
# median of each build and the ratio dispatch/native, turned so that above 1 means dispatch wins.
#
#   bench/dispatch_vs_native.sh [--rounds N] [--only g1,g2] [--threads N] [--clock wall|cpu]
# Environment: JOBS (default 2), NATIVE_FLAGS (default -march=x86-64-v3).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=5 only=mlp,mlp_relu,ops,sigx threads=1 clock=wall
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --clock) clock=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "dispatch_vs_native.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
export CCACHE_BASEDIR=$root
common=(-DCMAKE_BUILD_TYPE=Release -DAG_BUILD_TESTS=OFF -DAG_BUILD_EXAMPLES=OFF -DAG_BUILD_BENCH=ON)
cmake -S "$root" -B "$root/build-bench-dispatch" "${common[@]}" -DAG_NATIVE=OFF >/dev/null
cmake -S "$root" -B "$root/build-bench-native" "${common[@]}" -DAG_NATIVE=ON \
  "-DAG_NATIVE_FLAGS=${NATIVE_FLAGS:--march=x86-64-v3}" >/dev/null
for b in dispatch native; do
  cmake --build "$root/build-bench-$b" -j "${JOBS:-2}" --target ag_bench >/dev/null
done
log=$(mktemp)
for ((r = 1; r <= rounds; ++r)); do
  for b in dispatch native; do
    echo "round $r/$rounds: $b" >&2
    "$root/build-bench-$b/bench/ag_bench" --threads "$threads" --only "$only" --clock "$clock" |
      sed "s/^impl=ag /impl=$b /" >>"$log"
  done
done
python3 - "$log" <<'PY'
import re, statistics, sys
vals = {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r'(\w+)=(\S+)', line))
    if 'value' in kv:
        vals.setdefault((kv['workload'], kv['metric']), {}).setdefault(kv['impl'], []).append(float(kv['value']))
print('| workload | metric | dispatch | native | dispatch faster by |')
print('| --- | --- | --- | --- | --- |')
for (w, m), d in sorted(vals.items()):
    if 'dispatch' not in d or 'native' not in d:
        continue
    a, b = statistics.median(d['dispatch']), statistics.median(d['native'])
    higher_better = m.endswith('_per_s') or m.startswith('gflop') or m == 'speedup'
    faster = (a / b) if higher_better else (b / a)
    print(f'| {w} | {m} | {a:.4g} | {b:.4g} | {faster:.3f} |')
PY
rm -f "$log"
