#!/usr/bin/env bash
# Builds ag_bench (and torch_bench where libtorch-dev is installed) in Release under build-bench/,
# runs them alternately -- ag, LibTorch, ag, LibTorch -- for several rounds at each thread count,
# and prints the medians, the ag/LibTorch ratios and issue 5's targets (bench/aggregate.py).
#
#   bench/run.sh                      # 5 rounds at 1 and 2 threads, every group
#   bench/run.sh --rounds 7 --only mlp,ops
#   bench/run.sh --scaling            # group 'par' at 1, 2, 4, ... nproc threads, ag only
#   bench/run.sh --distributed        # data-parallel (ag::dist): bench/dist.sh, same options
#   bench/run.sh --issue15            # issue 15's table: groups mlp,mlp_relu,ops at 1 and 2
#                                     # threads, in both OpenBLAS settings (below), one table each
#
# Options: --rounds N (default 5), --threads "1 2", --reps R, --min-time S and --clock wall|cpu
# (passed to the programs; cpu time is meant for one thread on a loaded machine), --only g1,g2
# (groups), --out DIR (raw log and table; default build-bench/results), --no-build.
# Environment: BUILD_DIR (default <repo>/build-bench), JOBS (default 2), Torch_DIR.
# dlib_bench (libdlib-dev, optional) runs its 'mlp' group beside the others where it was built.
# --issue15 runs every round twice: with OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512 (the
# issues' environment) and with both unset, into raw-haswell.txt / raw-unset.txt and a table each.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
rounds=5
threads="1 2"
reps=5
min_time=0.2
clock=wall
only=""
out=""
scaling=0
issue15=0
do_build=1

die() { echo "run.sh: $*" >&2; exit 2; }
for arg in "$@"; do
  [ "$arg" = --distributed ] && exec "$root/bench/dist.sh" "$@"
done
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:?}; shift 2 ;;
    --threads) threads=${2:?}; shift 2 ;;
    --reps) reps=${2:?}; shift 2 ;;
    --min-time) min_time=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    --clock) clock=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --scaling) scaling=1; shift ;;
    --issue15) issue15=1; shift ;;
    --no-build) do_build=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ "$rounds" -ge 1 ] 2>/dev/null || die "--rounds needs a positive number"
if [ "$issue15" = 1 ]; then
  only=${only:-mlp,mlp_relu,ops}
  [ "$scaling" = 0 ] || die "--issue15 and --scaling do not go together"
fi
out=${out:-$build/results}
mkdir -p "$out"

if [ "$do_build" = 1 ]; then
  cmake_args=(-S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DAG_BUILD_BENCH=ON
              -DAG_BUILD_TESTS=OFF -DAG_BUILD_EXAMPLES=OFF)
  [ -n "${Torch_DIR:-}" ] && cmake_args+=("-DTorch_DIR=$Torch_DIR")
  cmake "${cmake_args[@]}" >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
  grep '^-- bench:' "$out/configure.log" || true
  targets=(ag_bench)
  # Not `| grep -q`: under pipefail, grep's early exit fails the pipeline with SIGPIPE.
  target_list=$(cmake --build "$build" --target help)
  case "$target_list" in *torch_bench*) targets+=(torch_bench) ;; esac
  case "$target_list" in *dlib_bench*) targets+=(dlib_bench) ;; esac
  cmake --build "$build" -j"${JOBS:-2}" --target "${targets[@]}"
fi

ag="$build/bench/ag_bench"
torch="$build/bench/torch_bench"
[ -x "$ag" ] || die "$ag was not built"
have_torch=0
[ -x "$torch" ] && have_torch=1
[ "$have_torch" = 1 ] || echo "run.sh: no torch_bench (libtorch-dev not found): ag only" >&2
dlib="$build/bench/dlib_bench"
have_dlib=0
[ -x "$dlib" ] && have_dlib=1
[ "$have_dlib" = 1 ] || echo "run.sh: no dlib_bench (libdlib-dev not found): no dlib column" >&2
# dlib_bench has the 'mlp' group only (batch 32 and 256).
dlib_only=""
case ",${only:-mlp}," in *,mlp,*) dlib_only=mlp ;; esac

# LibTorch has no 'hand' or 'par' group: pass it only the groups it knows.
torch_groups="mlp,mlp_relu,ops,matmul,sigx,conv,cnn"
if [ -n "$only" ]; then
  torch_only=$(python3 -c 'import sys; a=sys.argv[1].split(","); b=sys.argv[2].split(","); print(",".join(g for g in a if g in b))' "$only" "$torch_groups")
else
  torch_only=$torch_groups
fi

if [ "$scaling" = 1 ]; then
  n=$(nproc)
  threads=""
  t=1
  while [ "$t" -lt "$n" ]; do threads="$threads $t"; t=$((t * 2)); done
  threads="$threads $n"
  only=par
  have_torch=0
fi

# One run of every round into raw log $1, the environment as the caller set it.
run_rounds() {
  local raw=$1
  : >"$raw"
  {
    echo "# $(date -u '+%Y-%m-%d %H:%M UTC') $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
    echo "# rounds=$rounds threads='$threads' reps=$reps min_time=$min_time clock=$clock only='${only:-all}'"
    echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}"
  } | tee -a "$raw"
  common=(--reps "$reps" --min-time "$min_time" --clock "$clock")
  for r in $(seq "$rounds"); do
    for t in $threads; do
      echo "round $r/$rounds, $t thread(s), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
      "$ag" --threads "$t" "${common[@]}" ${only:+--only "$only"} | sed "s/^/round=$r /" >>"$raw"
      if [ "$have_torch" = 1 ] && [ -n "$torch_only" ]; then
        "$torch" --threads "$t" "${common[@]}" --only "$torch_only" | sed "s/^/round=$r /" >>"$raw"
      fi
      if [ "$have_dlib" = 1 ] && [ -n "$dlib_only" ]; then
        "$dlib" --threads "$t" "${common[@]}" --only "$dlib_only" | sed "s/^/round=$r /" >>"$raw"
      fi
    done
  done
}

if [ "$scaling" = 1 ]; then
  run_rounds "$out/raw.txt"
  python3 "$root/bench/aggregate.py" --scaling "$out/raw.txt" | tee "$out/table.md"
  echo "raw log: $out/raw.txt; table: $out/table.md" >&2
elif [ "$issue15" = 1 ]; then
  OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512 run_rounds "$out/raw-haswell.txt"
  (unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; run_rounds "$out/raw-unset.txt")
  for setting in haswell unset; do
    echo "## OpenBLAS setting: $setting"
    python3 "$root/bench/aggregate.py" "$out/raw-$setting.txt"
  done | tee "$out/table.md"
  echo "raw logs: $out/raw-haswell.txt, $out/raw-unset.txt; tables: $out/table.md" >&2
else
  run_rounds "$out/raw.txt"
  python3 "$root/bench/aggregate.py" "$out/raw.txt" | tee "$out/table.md"
  echo "raw log: $out/raw.txt; table: $out/table.md" >&2
fi
