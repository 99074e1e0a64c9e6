#!/usr/bin/env python3
"""Medians and spreads of bench/dist.sh's raw log (dist_bench lines), as Markdown tables.

usage: dist_aggregate.py RAW
"""
import re
import statistics
import sys
from collections import defaultdict


def parse(path):
    rows = []
    for line in open(path):
        if "dist_bench" not in line:
            continue
        fields = dict(re.findall(r"(\w+)=([^\s]+)", line))
        fields["kind"] = "allreduce" if "dist_bench allreduce" in line else "train"
        rows.append(fields)
    return rows


def spread(values, fmt="{:.0f}"):
    med = statistics.median(values)
    return f"{fmt.format(med)} ({fmt.format(min(values))}..{fmt.format(max(values))})", med


def per_round(rows, config, key):
    """{round: value}; for 2x1i (two independent processes) samples/s is the sum of both."""
    out = {}
    for r in rows:
        if r.get("config") != config or key not in r:
            continue
        k, v = int(r["round"]), float(r[key])
        out[k] = out.get(k, 0.0) + v if key == "samples_per_s" else max(out.get(k, 0.0), v)
    return out


def train_table(rows):
    print("| config | ranks x threads | batch per rank | samples/s median (min..max) | ms/step | "
          "CPU ms/step | DDP wait ms/step | blocking all-reduce ms | buckets |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for config in ["1x1", "2x1", "2x1n", "2x1s", "1x2", "2x1i"]:
        sel = [r for r in rows if r.get("config") == config and r["kind"] == "train"]
        if not sel:
            continue
        sps, _ = spread(list(per_round(rows, config, "samples_per_s").values()))
        step, _ = spread([float(r["step_ms"]) for r in sel], "{:.2f}")
        wait, _ = spread([float(r["wait_ms"]) for r in sel], "{:.3f}")
        ar, _ = spread([float(r["allreduce_ms"]) for r in sel], "{:.3f}")
        cpu, _ = spread([float(r.get("cpu_ms", "nan")) for r in sel], "{:.2f}")
        r0 = sel[0]
        ranks = {"2x1i": "2 independent", "2x1s": "2 (barrier only)"}.get(config, r0["ranks"])
        print(f"| {config} | {ranks} x {r0['threads']} | {r0['batch']} | {sps} | {step} | "
              f"{cpu} | {wait} | {ar} | {r0['buckets']} |")


def ratios(rows):
    print()
    print("| ratio (per round, samples/s) | median (min..max) | target |")
    print("| --- | --- | --- |")
    for a, b, what, target in [("2x1", "1x1", "2 ranks x 1 thread / 1 rank x 1 thread, batch 256 per rank", ">= 1.7"),
                               ("2x1n", "1x1", "same, one bucket copied in and out, no overlap", ""),
                               ("2x1", "1x2", "2 ranks x 1 thread / 1 rank x 2 threads, global batch 512", ""),
                               ("2x1i", "1x1", "ceiling: 2 independent processes at once / 1 process alone", ""),
                               ("2x1", "2x1i", "2 ranks x 1 thread / that ceiling (what DDP itself costs)", ""),
                               ("2x1s", "1x1", "floor of lock-step: 2 ranks meeting at a barrier each step, no all-reduce / 1x1", ""),
                               ("2x1", "2x1s", "2 ranks x 1 thread / that floor (what the all-reduce itself costs)", "")]:
        x, y = per_round(rows, a, "samples_per_s"), per_round(rows, b, "samples_per_s")
        common = sorted(set(x) & set(y))
        if not common:
            continue
        text, _ = spread([x[k] / y[k] for k in common], "{:.2f}")
        print(f"| {what} | {text} | {target} |")
    # Each rank busy on its own core: samples per CPU-second of the busiest rank. MPI's busy
    # waiting for a descheduled peer counts against the 2-rank run, so this errs low.
    for a, what in [("2x1", "same by CPU time per step (1 thread per rank: the time on a quiet core)"),
                    ("2x1n", "same by CPU time, one copied bucket")]:
        x, y = per_round(rows, a, "cpu_ms"), per_round(rows, "1x1", "cpu_ms")
        common = sorted(set(x) & set(y))
        if common:
            text, _ = spread([2 * y[k] / x[k] for k in common], "{:.2f}")
            print(f"| {what} | {text} | >= 1.7 |")


def allreduce_table(rows):
    sel = [r for r in rows if r["kind"] == "allreduce"]
    if not sel:
        return
    by_size = defaultdict(list)
    for r in sel:
        by_size[int(r["bytes"])].append(float(r["us"]))
    print()
    print("| bytes | MPI_Allreduce us, 2 ranks, median (min..max) | algorithm bandwidth GB/s (median) |")
    print("| --- | --- | --- |")
    for size in sorted(by_size):
        text, med = spread(by_size[size], "{:.1f}")
        print(f"| {size} | {text} | {size / (med * 1e-6) / 1e9:.3f} |")
    # Least-squares fit of t = alpha + n / bandwidth over the medians up to 256 KiB (about the gradient
    # sizes here; larger messages on a loaded 2-core VM measure the scheduler, not MPI).
    xs = [s for s in sorted(by_size) if s <= 1 << 18]
    ys = [statistics.median(by_size[s]) for s in xs]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    alpha = my - slope * mx
    small = statistics.median([y for x, y in zip(xs, ys) if x <= 1024])
    print()
    print(f"fit t(n) = alpha + n / B over sizes <= 256 KiB: alpha = {alpha:.1f} us, B = {1e-3 / slope:.2f} GB/s; "
          f"latency of messages <= 1 KiB: {small:.1f} us")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = parse(sys.argv[1])
    train_table(rows)
    ratios(rows)
    allreduce_table(rows)


if __name__ == "__main__":
    main()
