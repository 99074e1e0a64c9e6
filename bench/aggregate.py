#!/usr/bin/env python3
"""Reads the lines ag_bench and torch_bench print (one file, many rounds) and prints Markdown:
the median of each measurement over the rounds, the ag/LibTorch ratios, and issue 5's targets.

    python3 bench/aggregate.py raw.txt            # comparison tables and targets
    python3 bench/aggregate.py --scaling raw.txt  # thread-scaling table of the 'par' group
"""
import argparse
import re
import statistics
import sys
from collections import defaultdict

LINE = re.compile(r"impl=(\S+) threads=(\d+) workload=(\S+) metric=(\S+) value=(\S+)")
HIGHER_IS_BETTER = {"samples_per_s", "gflop_per_s"}

# Issue 15: per MLP workload, the roofline target (products-only time / step time) and the
# target ratio over LibTorch, at one thread, in both OpenBLAS settings.
ISSUE15 = [
    ("mlp_b1", "784-100-10 sigmoid, batch 1", None, 5.0),
    ("mlp_b32", "784-100-10 sigmoid, batch 32", 0.75, 2.0),
    ("mlp_b256", "784-100-10 sigmoid, batch 256", 0.90, 1.3),
    ("mlp_relu_b256", "784-256-256-10 ReLU, batch 256", 0.92, 1.2),
]

# Workloads in the order of issue 5, with a short description for the table.
ORDER = [
    ("mlp_b1", "1: MLP 784-100-10 sigmoid, batch 1"),
    ("mlp_b32", "1: MLP 784-100-10 sigmoid, batch 32"),
    ("mlp_b256", "1: MLP 784-100-10 sigmoid, batch 256"),
    ("mlp_relu_b256", "2: MLP 784-256-256-10 ReLU, batch 256"),
    ("mlp_b1_gemms", "15: batch 1, its BLAS calls alone"),
    ("mlp_b32_gemms", "15: batch 32, its BLAS calls alone"),
    ("mlp_b256_gemms", "15: batch 256, its BLAS calls alone"),
    ("mlp_relu_b256_gemms", "15: ReLU batch 256, its BLAS calls alone"),
    ("mlp_b1_roofline", "15: batch 1, BLAS-only time / step time"),
    ("mlp_b32_roofline", "15: batch 32, BLAS-only time / step time"),
    ("mlp_b256_roofline", "15: batch 256, BLAS-only time / step time"),
    ("mlp_relu_b256_roofline", "15: ReLU batch 256, BLAS-only time / step time"),
    ("mlp_b1_gemms_cblas", "15: batch 1, its products through cblas alone"),
    ("mlp_b32_gemms_cblas", "15: batch 32, its products through cblas alone"),
    ("mlp_b256_gemms_cblas", "15: batch 256, its products through cblas alone"),
    ("mlp_relu_b256_gemms_cblas", "15: ReLU batch 256, its products through cblas alone"),
    ("mlp_b1_roofline_cblas", "15: batch 1, cblas-only time / step time"),
    ("mlp_b32_roofline_cblas", "15: batch 32, cblas-only time / step time"),
    ("mlp_b256_roofline_cblas", "15: batch 256, cblas-only time / step time"),
    ("mlp_relu_b256_roofline_cblas", "15: ReLU batch 256, cblas-only time / step time"),
    ("ops1_fwd", "3: 1-element op, forward"),
    ("ops1_bwd", "3: 1-element op, backward"),
    ("ops1_release", "3: 1-element op, freeing the graph"),
    ("ops1_nograd", "3: 1-element op, no-grad forward"),
    ("ops1000_fwd", "3: 1000-element op, forward"),
    ("ops1000_bwd", "3: 1000-element op, backward"),
    ("ops1000_release", "3: 1000-element op, freeing the graph"),
    ("ops1000_nograd", "3: 1000-element op, no-grad forward"),
    ("matmul_fwd", "4: matmul 1024, forward"),
    ("matmul_bwd", "4: matmul 1024, backward"),
    ("matmul_fwdbwd", "4: matmul 1024, forward + backward"),
    ("cblas_sgemm", "4: raw cblas_sgemm 1024"),
    ("sigx_fwd", "5: sigmoid(x)*x+x 10M, forward"),
    ("sigx_bwd", "5: sigmoid(x)*x+x 10M, backward"),
    ("sigx_fwdbwd", "5: sigmoid(x)*x+x 10M, forward + backward"),
    ("auto_b1", "6: autograd step, batch 1"),
    ("hand_b1", "6: hand-written, ag ops, batch 1"),
    ("raw_b1", "6: hand-written, cblas + loops, batch 1"),
    ("auto_over_hand_b1", "6: autograd / hand-written time, batch 1"),
    ("auto_over_raw_b1", "6: autograd / cblas + loops time, batch 1"),
    ("auto_b32", "6: autograd step, batch 32"),
    ("hand_b32", "6: hand-written, ag ops, batch 32"),
    ("raw_b32", "6: hand-written, cblas + loops, batch 32"),
    ("auto_over_hand_b32", "6: autograd / hand-written time, batch 32"),
    ("auto_over_raw_b32", "6: autograd / cblas + loops time, batch 32"),
    ("conv_fwd", "10: conv 64x16x28x28 16->32 3x3, forward"),
    ("conv_fwdbwd", "10: conv layer, forward + backward"),
    ("conv_fwdbwd_rate", "10: conv layer, forward + backward (3 GEMMs' flops)"),
    ("conv_gemms_cblas", "10: the same GEMMs, raw cblas_sgemm"),
    ("conv_fwdbwd_vs_gemms", "10: conv fwd+bwd rate / raw GEMM rate"),
    ("cnn_b64", "10: LeNet-5 training, batch 64"),
]


def read(paths):
    values = defaultdict(list)  # (impl, threads, workload) -> values over rounds
    metrics = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                m = LINE.search(line)
                if not m:
                    continue
                impl, threads, workload, metric, value = m.groups()
                values[(impl, int(threads), workload)].append(float(value))
                metrics[workload] = metric
    return values, metrics


def med(values, impl, threads, workload):
    v = values.get((impl, threads, workload))
    return statistics.median(v) if v else None


def fmt(x):
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def speedup(metric, ag, torch):
    """How many times faster ag is (>1: ag wins), whatever the metric's direction."""
    if ag is None or torch is None or ag == 0 or torch == 0:
        return None
    return ag / torch if metric in HIGHER_IS_BETTER else torch / ag


def comparison(values, metrics, threads_list):
    out = []
    known = [w for w, _ in ORDER]
    extra = sorted({w for (_, _, w) in values} - set(known) - {w for w in metrics if w.startswith("par_")})
    rows = [(w, d) for w, d in ORDER if w in metrics] + [(w, w) for w in extra]
    for t in threads_list:
        best_col = t != 1 and any(impl == "torch" for (impl, _, _) in values)
        out.append(f"\n### {t} thread{'s' if t != 1 else ''}\n")
        head = "| workload | metric | ag | LibTorch | ag/LibTorch | ag faster by |"
        sep = "| --- | --- | ---: | ---: | ---: | ---: |"
        if best_col:
            head += " LibTorch best of 1..{0} thr | ag faster than that by |".format(t)
            sep += " ---: | ---: |"
        out += [head, sep]
        for w, desc in rows:
            metric = metrics[w]
            ag = med(values, "ag", t, w)
            torch = med(values, "torch", t, w)
            if ag is None and torch is None:
                continue
            ratio = ag / torch if ag is not None and torch else None
            row = f"| {desc} | {metric} | {fmt(ag)} | {fmt(torch)} | {fmt(ratio)} | {fmt(speedup(metric, ag, torch))} |"
            if best_col:
                cands = [med(values, "torch", u, w) for u in threads_list if u <= t]
                cands = [c for c in cands if c is not None]
                best = None
                if cands:
                    best = max(cands) if metric in HIGHER_IS_BETTER else min(cands)
                row += f" {fmt(best)} | {fmt(speedup(metric, ag, best))} |"
            out.append(row)
    return out


def targets(values, threads_list):
    """Issue 5's and issue 10's targets, each checked on the medians of the same runs."""
    out = ["\n### Issue 5 targets\n", "| target | threads | measured | holds |", "| --- | ---: | --- | --- |"]

    def line(name, t, text, ok):
        verdict = "-" if ok is None else ("yes" if ok else "**no**")
        out.append(f"| {name} | {t} | {text} | {verdict} |")

    for t in threads_list:
        for w, need in [("mlp_b1", 5.0), ("mlp_b32", 1.5), ("mlp_b256", 1.0), ("mlp_relu_b256", 1.0)]:
            # Against LibTorch's best figure at up to t threads: its threads spin against
            # OpenBLAS's at small batches, and the issue asks for its best setting.
            ag = med(values, "ag", t, w)
            torch_by_threads = {u: med(values, "torch", u, w) for u in threads_list if u <= t}
            torch_by_threads = {u: v for u, v in torch_by_threads.items() if v is not None}
            if ag is None or not torch_by_threads:
                continue
            best_u = max(torch_by_threads, key=torch_by_threads.get)
            torch = torch_by_threads[best_u]
            r = ag / torch
            line(f"{w}: ag >= {need}x LibTorch samples/s", t,
                 f"{r:.2f}x ({fmt(ag)} vs {fmt(torch)} at {best_u} thr)", r >= need)
        for w, need5, need15 in [("ops1_fwd", 0.5, 0.2), ("ops1_bwd", 0.5, 0.3)]:
            ag = med(values, "ag", t, w)
            if ag is not None:
                line(f"{w}: <= {need5} us/op (issue 5)", t, f"{ag:.3f} us", ag <= need5)
                line(f"{w}: < {need15} us/op (issue 15)", t, f"{ag:.3f} us", ag < need15)
        mm, ref = med(values, "ag", t, "matmul_fwdbwd"), med(values, "ag", t, "cblas_sgemm")
        if mm is not None and ref is not None:
            line("matmul fwd+bwd >= 95% of cblas_sgemm", t, f"{100 * mm / ref:.0f}% ({fmt(mm)} vs {fmt(ref)} GFLOP/s)", mm >= 0.95 * ref)
        for need in [1.3 if t == 1 else 1.0]:
            ag, torch = med(values, "ag", t, "cnn_b64"), med(values, "torch", t, "cnn_b64")
            if ag is not None and torch is not None:
                line(f"cnn_b64: ag >= {need}x LibTorch samples/s", t, f"{ag / torch:.2f}x ({fmt(ag)} vs {fmt(torch)})", ag / torch >= need)
        r = med(values, "ag", t, "conv_fwdbwd_vs_gemms")
        if r is not None:
            line("conv fwd+bwd >= 80% of its GEMMs in cblas_sgemm", t, f"{100 * r:.0f}%", r >= 0.8)
        r = med(values, "ag", t, "auto_over_hand_b32")
        if r is not None:
            line("autograd <= 1.2x hand-written time, batch 32", t, f"{r:.2f}x", r <= 1.2)
    s1 = med(values, "ag", 1, "sigx_fwd")
    if s1 is not None:
        line("workload 5 forward <= 4 ns/element", 1, f"{s1:.2f} ns", s1 <= 4.0)
        s1b = med(values, "ag", 1, "sigx_bwd")
        if s1b is not None:
            line("workload 5 backward (no target; for reference)", 1, f"{s1b:.2f} ns", None)
        for t in threads_list:
            st = med(values, "ag", t, "sigx_fwd")
            if t > 1 and st is not None:
                line(f"workload 5 forward >= 1.5x faster on {t} threads than 1", t, f"{s1 / st:.2f}x ({s1:.2f} -> {st:.2f} ns)", s1 / st >= 1.5)
    return out


def issue15(values, threads_list):
    """Issue 15's table: per MLP workload and thread count, ag's samples/s, the roofline fractions
    (the step's products alone, replayed right after the step, over the step's time: in the
    library ag ran them on, and as ag's OpenBLAS backend makes them, through cblas) and ag's ratio
    over LibTorch and over dlib, with the targets (at one thread)."""
    out = ["\n### Issue 15: roofline and peers\n",
           "roofline = time of the step's matrix products alone / ag's step time (1 = all math): "
           "'own' replays the exact calls ag made, in the library that ran them (its matmul "
           "backend: oneDNN's dnnl_sgemm where built); 'cblas' replays the same step's products as "
           "ag's OpenBLAS backend makes them (cblas_sgemm / cblas_sgemv, the issue's definition). "
           "Ratios are ag's samples/s over the peer's, medians over the rounds; targets are for "
           "1 thread; at more threads, 'vs 1 thr' is ag's samples/s over its own at 1 thread "
           "(issue 15: never below 1).\n",
           "| workload | threads | ag samples/s | products-only samples/s, own | roofline, own "
           "(target) | products-only samples/s, cblas | roofline, cblas (target) |"
           " ag/LibTorch (target) | ag/dlib | ag vs 1 thr |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def verdict(x, need):
        if x is None:
            return "-"
        text = f"{x:.3g}" if need is None else f"{x:.3g} ({need:g})"
        return text if need is None or x >= need else f"**{text}**"

    for t in threads_list:
        for w, desc, roof_need, torch_need in ISSUE15:
            ag = med(values, "ag", t, w)
            if ag is None:
                continue
            torch, dlib = med(values, "torch", t, w), med(values, "dlib", t, w)
            one = med(values, "ag", 1, w)
            need = (lambda n: n) if t == 1 else (lambda n: None)
            vs1 = fmt(ag / one) if t != 1 and one else "-"
            roofs = [f"{fmt(med(values, 'ag', t, w + '_gemms' + lib))} | "
                     f"{verdict(med(values, 'ag', t, w + '_roofline' + lib), need(roof_need))}"
                     for lib in ("", "_cblas")]
            out.append(f"| {desc} | {t} | {fmt(ag)} | {roofs[0]} | {roofs[1]} | "
                       f"{verdict(ag / torch if torch else None, need(torch_need))} | "
                       f"{verdict(ag / dlib if dlib else None, None)} | {vs1} |")
    return out


def spread(values, threads_list):
    """The MLP targets round by round: this machine's noise moves LibTorch's figures by up to a
    third between rounds, so a median ratio near its target says little on its own."""
    out = ["\n### MLP targets round by round\n",
           "ag over LibTorch's best at up to that many threads, within each round.\n",
           "| target | threads | per-round ratios | min / median / max |", "| --- | ---: | --- | --- |"]
    for t in threads_list:
        for w, need in [("mlp_b1", 5.0), ("mlp_b32", 1.5), ("mlp_b256", 1.0), ("mlp_relu_b256", 1.0)]:
            ag = values.get(("ag", t, w))
            torch = [values.get(("torch", u, w)) for u in threads_list if u <= t]
            torch = [v for v in torch if v]
            if not ag or not torch:
                continue
            rounds = min([len(ag)] + [len(v) for v in torch])
            ratios = [ag[r] / max(v[r] for v in torch) for r in range(rounds)]
            out.append(f"| {w} >= {need}x | {t} | " + ", ".join(f"{r:.2f}" for r in ratios) +
                       f" | {min(ratios):.2f} / {statistics.median(ratios):.2f} / {max(ratios):.2f} |")
    return out


def scaling(values, threads_list):
    out = ["| threads | " + " | ".join(
        f"{k} {src} ns/elem (speedup)" for k in ("add", "sigmoid", "sum") for src in ("ag", "raw")) + " |"]
    out.append("| ---: |" + " ---: |" * 6)
    base = {}
    for t in threads_list:
        cells = []
        for k in ("add", "sigmoid", "sum"):
            for src in ("ag", "raw"):
                v = med(values, "ag", t, f"par_{k}_{src}")
                if v is not None and (k, src) not in base:
                    base[(k, src)] = v
                b = base.get((k, src))
                cells.append("-" if v is None else f"{v:.3f} ({b / v:.2f}x)")
        out.append(f"| {t} | " + " | ".join(cells) + " |")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scaling", action="store_true", help="print the thread-scaling table of group 'par'")
    p.add_argument("files", nargs="+")
    args = p.parse_args()
    values, metrics = read(args.files)
    if not values:
        sys.exit("aggregate.py: no measurements found in " + ", ".join(args.files))
    threads_list = sorted({t for (_, t, _) in values})
    rounds = max(len(v) for v in values.values())
    print(f"Medians over up to {rounds} rounds per cell.")
    if args.scaling:
        print("\n".join(scaling(values, threads_list)))
        return
    print("\n".join(comparison(values, metrics, threads_list)))
    print("\n".join(targets(values, threads_list)))
    print("\n".join(issue15(values, threads_list)))
    print("\n".join(spread(values, threads_list)))
    par = [w for w in metrics if w.startswith("par_")]
    if par:
        print("\n### Large elementwise ops and a reduction, ag against raw TBB loops\n")
        print("\n".join(scaling(values, threads_list)))


if __name__ == "__main__":
    main()
