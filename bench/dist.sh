#!/usr/bin/env bash
# Data-parallel benchmarks (issue 11); also `bench/run.sh --distributed`. Builds dist_bench in
# Release under build-bench/ and runs, for several rounds, one after another:
#   1x1   one process, one thread, batch 256, no DDP, on one core (the baseline)
#   2x1   two ranks, one thread each, batch 256 per rank (512 global), DDP
#   1x2   one process, two threads (TBB), batch 512               (same global batch as 2x1)
#   2x1n  as 2x1 with every gradient copied into one bucket, reduced once backward is done: no
#         overlap and no in-place reduction (DDPOptions::in_place_bytes beyond every gradient)
#   2x1s  as 2x1 without DDP, the ranks meeting at an MPI_Barrier after each backward: what
#         lock-step costs on its own (an all-reduce that takes no time)
#   2x1i  two independent 1x1 processes at once, one per core, no MPI: the machine's own ceiling
#         for 2x1 (what two ranks get when they share nothing but the memory system and the host)
#   MPI_Allreduce latency at 4 B .. 16 MiB on 2 ranks
# then prints medians and spreads (min..max over rounds) and the ratios (bench/dist_aggregate.py).
#
#   bench/dist.sh [--rounds N] [--steps N] [--out DIR] [--no-build]
# AG_BENCH_MATMUL=openblas|onednn picks ag's float32 product library (default: ag's own default).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
rounds=5
steps=60
out=""
do_build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --distributed) shift ;;  # when called through run.sh
    --rounds) rounds=${2:?}; shift 2 ;;
    --steps) steps=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "dist.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
out=${out:-$build/results}
mkdir -p "$out"

if [ "$do_build" = 1 ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DAG_BUILD_BENCH=ON -DAG_BUILD_TESTS=OFF \
    -DAG_BUILD_EXAMPLES=OFF >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
  cmake --build "$build" -j"${JOBS:-2}" --target dist_bench
fi
bin="$build/bench/dist_bench"
[ -x "$bin" ] || { echo "dist.sh: $bin was not built (is MPI installed?)" >&2; exit 1; }

# Root in containers and CI; two ranks on two cores, each bound to its own core.
mpirun=(mpirun --allow-run-as-root --oversubscribe --bind-to core -x AG_NUM_THREADS=1)
[ -z "${AG_BENCH_MATMUL:-}" ] || mpirun+=(-x AG_BENCH_MATMUL)  # ag's float32 product library
raw="$out/dist-raw.txt"
{
  echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
  echo "# rounds=$rounds steps=$steps"
} | tee "$raw"
train=(train --steps "$steps" --warmup 10)
for r in $(seq "$rounds"); do
  echo "round $r/$rounds, load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  {
    # Bound to one core like each rank (mpirun --bind-to core): unbound, it ran 10% slower here.
    AG_NUM_THREADS=1 taskset -c 0 "$bin" "${train[@]}" --batch 256 --plain |
      sed "s/^/round=$r config=1x1 /"
    "${mpirun[@]}" -np 2 "$bin" "${train[@]}" --batch 256 | sed "s/^/round=$r config=2x1 /"
    AG_NUM_THREADS=2 "$bin" "${train[@]}" --batch 512 --plain | sed "s/^/round=$r config=1x2 /"
    "${mpirun[@]}" -np 2 "$bin" "${train[@]}" --batch 256 --in-place-bytes 1073741824 |
      sed "s/^/round=$r config=2x1n /"
    "${mpirun[@]}" -np 2 "$bin" "${train[@]}" --batch 256 --sync-only | sed "s/^/round=$r config=2x1s /"
    for core in 0 1; do
      AG_NUM_THREADS=1 taskset -c "$core" "$bin" "${train[@]}" --batch 256 --plain |
        sed "s/^/round=$r config=2x1i core=$core /" &
    done
    wait
    "${mpirun[@]}" -np 2 "$bin" allreduce | sed "s/^/round=$r config=ar2 /"
  } >>"$raw"
done
python3 "$root/bench/dist_aggregate.py" "$raw" | tee "$out/dist-table.md"
echo "raw log: $raw; table: $out/dist-table.md" >&2
