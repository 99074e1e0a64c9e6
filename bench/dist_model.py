#!/usr/bin/env python3
"""Cost model of data-parallel training with ag::dist (issue 11), for bench/RESULTS.md.

    step(W, b) = compute(b) * (1 + jitter * e(W)) + exposed(allreduce(W, n) - hidden)
    compute(b) = t0 + b * c                 (fitted to the 1-rank runs of bench/dist.sh)
    lock-step  = every rank waits for the slowest each step: with per-step compute times of
                 relative spread `jitter` (standard deviation / mean), the slowest of W ranks
                 takes e(W) standard deviations longer than the mean, e(W) = E[max of W standard
                 normals] (e(2) = 0.56, e(8) = 1.42, e(64) = 2.34, e(512) = 3.04). Fitted from
                 bench/dist.sh's 2x1s row (ranks meeting at a barrier, no all-reduce) against
                 2x1i (the same two processes, independent): jitter = (2x1i / 2x1s - 1) / e(2),
                 from samples/s.
    allreduce  = min(ring, Rabenseifner):   ring        2 (W - 1) alpha + 2 (W - 1) / W * n / B
                                            Rabenseifner 2 log2(W) alpha + 2 (W - 1) / W * n / B
    hidden     = the backward compute that is still to run when the gradients are ready
                 (MLP: none, its first layer holds 98.7% of the gradient and comes last;
                 CNN: the conv layers' backward, while the fully connected layers' gradients,
                 96% of the bytes, are reduced)

Efficiency at a fixed per-rank batch b is compute(b) / step(W, b). The batch at which a model
stops scaling is where communication takes as long as computing (efficiency 50%), and where it
takes a quarter as long (80%).

usage: dist_model.py [--c US_PER_SAMPLE] [--t0 MS] [--alpha US] [--bw GBPS] [--measured-ar US]
                     [--jitter FRACTION]
"""
import argparse
import math

MLP_PARAMS = 784 * 100 + 100 + 100 * 10 + 10  # 79,510
# LeNet-style: conv 1->6 5x5 pad 2, pool, conv 6->16 5x5, pool, 400-120-84-10
CNN_PARAMS = (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
CNN_MACS = {  # multiply-adds per sample, forward
    "conv1": 6 * 28 * 28 * 25,       # 117,600
    "conv2": 16 * 10 * 10 * 6 * 25,  # 240,000
    "fc": 400 * 120 + 120 * 84 + 84 * 10,  # 58,920
}
MLP_FLOPS = 2 * (784 * 100 + 100 * 10) + 2 * (784 * 100) + 4 * (100 * 10)  # fwd + bwd, no input grad


def cnn_flops():
    """Forward + backward FLOPs per sample: the input needs no gradient (conv1 computes only its
    weight gradient), every other layer both."""
    fwd = 2 * sum(CNN_MACS.values())
    bwd = 2 * CNN_MACS["conv1"] + 4 * CNN_MACS["conv2"] + 4 * CNN_MACS["fc"]
    conv_bwd = 2 * CNN_MACS["conv1"] + 4 * CNN_MACS["conv2"]
    return fwd + bwd, conv_bwd / (fwd + bwd)


def expected_max_normal(w):
    """E[max of w independent standard normals], by the trapezoid rule on [-8, 8]."""
    if w == 1:
        return 0.0
    h, total = 1e-3, 0.0
    for i in range(16001):
        x = -8 + i * h
        pdf = math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
        cdf = 0.5 * (1 + math.erf(x / math.sqrt(2)))
        total += (0.5 if i in (0, 16000) else 1.0) * x * w * pdf * cdf ** (w - 1) * h
    return total


def allreduce_s(w, nbytes, alpha, bw):
    if w == 1:
        return 0.0
    volume = 2 * (w - 1) / w * nbytes / bw
    ring = 2 * (w - 1) * alpha + volume
    rab = 2 * math.log2(w) * alpha + volume
    return min(ring, rab)


def step_s(model, w, b, net, jitter=0.0):
    comp = model["t0"] + b * model["c"]
    ar = allreduce_s(w, model["bytes"], net["alpha"], net["bw"])
    hidden = model["hide"] * comp
    return comp, comp * (1 + jitter * expected_max_normal(w)) + max(0.0, ar - hidden), ar


def batch_for(model, w, net, efficiency, jitter=0.0):
    """Smallest per-rank batch with compute / step >= efficiency (bisection on b); None when
    lock-step alone keeps the efficiency below it at any batch."""
    lo, hi = 1.0, 1e7
    comp, step, _ = step_s(model, w, hi, net, jitter)
    if comp / step < efficiency:
        return None
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        comp, step, _ = step_s(model, w, mid, net, jitter)
        if comp / step >= efficiency:
            hi = mid
        else:
            lo = mid
    return hi


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--c", type=float, default=3.7, help="MLP compute, us per sample (1 thread)")
    p.add_argument("--t0", type=float, default=0.03, help="per-step overhead, ms")
    p.add_argument("--alpha", type=float, default=1.0, help="measured shared-memory latency, us")
    p.add_argument("--bw", type=float, default=3.0, help="measured shared-memory bandwidth, GB/s")
    p.add_argument("--measured-ar", type=float, default=None, help="measured 2-rank all-reduce, us")
    p.add_argument("--cnn-gflops", type=float, default=40.0, help="assumed CNN FLOP rate per core")
    p.add_argument("--jitter", type=float, default=0.0,
                   help="relative spread of the per-step compute (std / mean), fitted from 2x1s")
    a = p.parse_args()

    flops, conv_share = cnn_flops()
    models = {
        "MLP 784-100-10": {"t0": a.t0 * 1e-3, "c": a.c * 1e-6, "bytes": 4 * MLP_PARAMS, "hide": 0.0},
        "CNN (LeNet)": {"t0": a.t0 * 1e-3, "c": flops / (a.cnn_gflops * 1e9), "bytes": 4 * CNN_PARAMS,
                        "hide": conv_share},
    }
    nets = {
        "this VM, shared memory": {"alpha": a.alpha * 1e-6, "bw": a.bw * 1e9},
        "10 Gbit/s Ethernet": {"alpha": 30e-6, "bw": 1.25e9},
        "100 Gbit/s InfiniBand": {"alpha": 3e-6, "bw": 12.5e9},
    }
    print(f"MLP: {MLP_PARAMS} parameters ({4 * MLP_PARAMS / 1e3:.0f} kB of float32 gradient), "
          f"{MLP_FLOPS / 1e3:.0f} kFLOP per sample, measured {a.c:.2f} us per sample")
    print(f"CNN: {CNN_PARAMS} parameters ({4 * CNN_PARAMS / 1e3:.0f} kB), {flops / 1e6:.2f} MFLOP per "
          f"sample -> {models['CNN (LeNet)']['c'] * 1e6:.1f} us at {a.cnn_gflops:.0f} GFLOP/s; conv "
          f"backward {conv_share:.0%} of it can hide the reduction of the other gradients")
    if a.measured_ar is not None:
        pred = allreduce_s(2, 4 * MLP_PARAMS, a.alpha * 1e-6, a.bw * 1e9) * 1e6
        print(f"check, 2 ranks on this VM: all-reduce of the MLP's gradient predicted {pred:.0f} us, "
              f"measured {a.measured_ar:.0f} us")
    print()
    with_jitter = a.jitter > 0
    print("| model | network | ranks | all-reduce ms | efficiency at batch 256/rank | "
          "batch/rank for 50% | global batch for 50% | batch/rank for 80% |"
          + (" with this VM's lock-step spread: efficiency at 256 | batch/rank for 50% |" if with_jitter else ""))
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |" + (" ---: | ---: |" if with_jitter else ""))
    for mname, m in models.items():
        for nname, net in nets.items():
            ranks = [2] if nname.startswith("this VM") else [8, 64, 512]
            for w in ranks:
                comp, step, ar = step_s(m, w, 256, net)
                b50, b80 = batch_for(m, w, net, 0.5), batch_for(m, w, net, 0.8)
                line = (f"| {mname} | {nname} | {w} | {ar * 1e3:.3f} | {comp / step:.0%} | "
                        f"{b50:.0f} | {b50 * w:.0f} | {b80:.0f} |")
                if with_jitter:
                    comp, step, _ = step_s(m, w, 256, net, a.jitter)
                    j50 = batch_for(m, w, net, 0.5, a.jitter)
                    line += f" {comp / step:.0%} | {'never' if j50 is None else f'{j50:.0f}'} |"
                print(line)


if __name__ == "__main__":
    main()
