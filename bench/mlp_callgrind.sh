#!/usr/bin/env bash
# Instruction counts per MLP training step (bench/PROFILE.md, issue 15), repeatable on a loaded
# machine: callgrind runs bench/mlp_profile with N = STEPS and N = 0 steps (both after the same
# 2 warm-up steps) and prints (count(N) - count(0)) / N, in total, for OpenBLAS (every function
# of libopenblas plus memset, which OpenBLAS's sgemm_beta calls to zero beta = 0 outputs) and for
# ag (everything else), then ag's largest functions. valgrind hides AVX-512, so these are the
# kernels' AVX2 copies.
#   bench/mlp_callgrind.sh [BUILD_DIR] [STEPS]      (default build, 10)
# Workloads: 784-100-10 sigmoid at batch 256 and 32, 784-256-256-10 ReLU at batch 256.
# OpenBLAS as the issues' environment sets it, unless the caller's environment says otherwise.
set -euo pipefail
build=${1:-build}
steps=${2:-10}
bin=$build/bench/mlp_profile
[[ -x $bin ]] || { echo "no $bin: cmake --build $build --target mlp_profile" >&2; exit 1; }
command -v valgrind > /dev/null || { echo "needs valgrind" >&2; exit 1; }
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-Haswell} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE-512}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for w in "256 sigmoid" "32 sigmoid" "256 relu"; do
  tag=${w// /_}
  for n in 0 "$steps"; do
    valgrind --tool=callgrind --toggle-collect=main --callgrind-out-file="$out/$tag.$n" \
      "$bin" $w "$n" > /dev/null 2>&1
  done
  python3 - "$out/$tag.0" "$out/$tag.$steps" "$steps" "$w" <<'EOF'
import collections, re, subprocess, sys

def per_function(path):
    text = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", path],
                          capture_output=True, text=True, check=True).stdout
    counts, total = collections.Counter(), 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*?)\s*$", line)
        if not m:
            continue
        n, name = int(m.group(1).replace(",", "")), m.group(2)
        if "PROGRAM TOTALS" in name:
            total = n
        else:
            counts[name] += n
    return total, counts

(t0, c0), (t1, c1) = per_function(sys.argv[1]), per_function(sys.argv[2])
steps = int(sys.argv[3])
delta = {k: (c1[k] - c0[k]) / steps for k in set(c0) | set(c1)}
blas = sum(v for k, v in delta.items() if "openblas" in k.lower() or "memset" in k)
total = (t1 - t0) / steps
print(f"{sys.argv[4]}: {total / 1e3:,.0f} k instructions per step: "
      f"OpenBLAS {blas / 1e3:,.0f} k, ag {(total - blas) / 1e3:,.0f} k")
ag = [(v, k) for k, v in delta.items() if "openblas" not in k.lower() and "memset" not in k]
for v, k in sorted(ag, reverse=True)[:8]:
    name = k.split(":", 1)[-1].replace("(anonymous namespace)::", "")
    name = re.sub(r"\(.*", "", name)[:90]
    print(f"  {v / 1e3:8.1f} k  {name}")
EOF
done
