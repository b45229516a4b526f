#!/usr/bin/env python
"""Noise-augmented training speed: a straightforward loop against the pipeline's trainer.

The straightforward loop pushes each batch of B images x C noisy copies through the network in
one NCHW forward/backward pass. The pipeline (rsmooth.training.train) uses channels_last and
micro-batches with gradient accumulation (the same gradient up to summation order), under the
glibc setting every pipeline job makes (rsmooth.cli.keep_freed_memory). The straightforward loop
runs twice: in a fresh process with glibc's defaults (as a plain script runs) and under the
pipeline's setting (which isolates what the loop itself gains). Prints noisy training samples
per second, the share of the fp32 matmul peak (3 forward passes' FLOPs per sample: forward,
and the backward's two products) and both speed-ups. ``--dataset mnist`` measures the paper's
CNN on 1 x 28 x 28 images, ``--dataset cifar10`` the ``fastnet`` on 3 x 32 x 32 (or ``--arch``).
``--legacy`` instead times the trainer with the noise it drew before issue 32 (torch.randn from
a CPU generator) against the current one (rsmooth.rng's counter-based noise, made on the
device), alternating them ``--reps`` times.
"""
import argparse
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from rsmooth import cli, config, models, runtime, training

from bench_certify import DEFAULTS, flops_per_image, matmul_peak


def straightforward(model, x, y, alpha, b, c, steps, device):
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
    g = torch.Generator().manual_seed(0)
    model.train().to(device)
    t = None
    for step in range(steps + 1):
        if step == 1:
            t = time.perf_counter()
        idx = torch.randint(0, len(x), (b,), generator=g)
        xb = x[idx].repeat_interleave(c, 0)
        xb = xb + alpha * torch.randn(xb.shape, generator=g)
        opt.zero_grad()
        F.cross_entropy(model(xb.to(device)), y[idx].repeat_interleave(c, 0).to(device)).backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * b * c / (time.perf_counter() - t)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(DEFAULTS), default="mnist")
    p.add_argument("--arch", help="architecture (default: the dataset's)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--copies", type=int, default=10)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--micro-batch", type=int, default=0,
                   help="0: the pipeline's default on CPU (TrainConfig.micro_batch), whole batch on GPU")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: every CPU; jobs use 1)")
    p.add_argument("--legacy", action="store_true",
                   help="time the trainer with the pre-issue-32 noise (torch.randn on the CPU) beside the current")
    p.add_argument("--reps", type=int, default=5, help="alternations with --legacy")
    p.add_argument("--straightforward-only", action="store_true",
                   help="print only the straightforward loop's samples/s (glibc defaults)")
    a = p.parse_args()
    device = runtime.pick_device(a.device)
    torch.set_num_threads(a.threads or len(os.sched_getaffinity(0)))
    arch, shape, _ = DEFAULTS[a.dataset]
    arch = a.arch or arch

    def net():
        torch.manual_seed(0)
        return models.build_model(arch, shape[0], 10, shape[1])

    n = a.batch_size * (a.steps + 1)
    x, y = torch.rand(n, *shape), torch.randint(0, 10, (n,))
    if a.legacy:
        legacy_side_by_side(a, net, x, y, device, arch)
        return
    if a.straightforward_only:
        print(straightforward(net(), x, y, 0.5, a.batch_size, a.copies, a.steps, device))
        return
    plain = float(subprocess.run(
        [sys.executable, __file__, "--straightforward-only", "--dataset", a.dataset, "--arch", arch,
         "--batch-size", str(a.batch_size), "--copies", str(a.copies), "--steps", str(a.steps),
         "--device", a.device],
        capture_output=True, text=True, check=True).stdout.split()[-1])
    cli.keep_freed_memory()  # as the pipeline's jobs do
    peak = matmul_peak(device)
    flop = 3 * flops_per_image(net(), shape)
    ref = straightforward(net(), x, y, 0.5, a.batch_size, a.copies, a.steps, device)
    recipe = config.defaults(a.dataset)["train"]["noisy"]  # the schema's
    micro = a.micro_batch or (recipe["micro_batch"] if device.type == "cpu" else a.batch_size * a.copies)
    cfg = training.TrainConfig(**{**recipe, "epochs": 1, "batch_size": a.batch_size, "copies": a.copies,
                                  "micro_batch": micro})
    stats = training.train(net(), x, y, 0.5, cfg, seed=0, device=device, log=lambda *m: None)
    dev = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {dev}; {arch} ({flop / 3e6:.1f} MFLOP per forward pass); B = {a.batch_size}, "
          f"C = {a.copies}; fp32 matmul peak {peak:.0f} GFLOP/s")
    fast = stats["samples_per_s"]

    def pct(rate):
        return f"{100 * rate * flop / 1e9 / peak:.0f}%"

    print("| training loop | noisy samples/s | % of matmul peak | speed-up over the plain loop "
          "| over the loop under the same glibc setting |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| straightforward (NCHW, one pass of B x C), glibc defaults | {plain:.0f} | {pct(plain)} | 1.00x | |")
    print(f"| straightforward, glibc keeps freed memory (the pipeline's setting) | {ref:.0f} | {pct(ref)} "
          f"| {ref / plain:.2f}x | 1.00x |")
    print(f"| pipeline (channels_last, micro-batch {micro}) | {fast:.0f} | {pct(fast)} | {fast / plain:.2f}x "
          f"| {fast / ref:.2f}x |")


def legacy_side_by_side(a, net, x, y, device, arch):
    """samples/s of rsmooth.training.train with its noise and with the pre-issue-32 noise
    (alpha * torch.randn from a CPU generator, then copied to the device), alternating."""
    import numpy as np

    cli.keep_freed_memory()
    recipe = config.defaults(a.dataset)["train"]["noisy"]
    micro = a.micro_batch or (recipe["micro_batch"] if device.type == "cpu" else a.batch_size * a.copies)
    cfg = training.TrainConfig(**{**recipe, "epochs": 1, "batch_size": a.batch_size, "copies": a.copies,
                                  "micro_batch": micro})
    current = training.train_noise
    gen = torch.Generator().manual_seed(0)

    def legacy(seed, step, m, shape, dev):
        return torch.randn((m, *shape), generator=gen).to(dev)

    rates = {"legacy (torch.randn on the host)": [], "current (SplitMix64 on the device)": []}
    for rep in range(a.reps + 1):
        for name, noise in zip(rates, (legacy, current)):
            training.train_noise = noise
            try:
                stats = training.train(net(), x, y, 0.5, cfg, seed=0, device=device, log=lambda *m: None)
            finally:
                training.train_noise = current
            if rep:  # the first round warms up
                rates[name].append(stats["samples_per_s"])
    print(f"{arch}, B = {a.batch_size}, C = {a.copies}, micro-batch {micro}, {torch.get_num_threads()} thread(s); "
          f"{a.reps} alternations, median (min-max) noisy samples/s\n")
    print("| trainer noise | samples/s |\n| --- | --- |")
    for name, r in rates.items():
        print(f"| {name} | {np.median(r):.0f} ({min(r):.0f}-{max(r):.0f}) |")
    ratio = np.array(rates["current (SplitMix64 on the device)"]) / np.array(rates["legacy (torch.randn on the host)"])
    print(f"| current / legacy, median of adjacent pairs (min-max) | {np.median(ratio):.3f} "
          f"({ratio.min():.3f}-{ratio.max():.3f}) |")


if __name__ == "__main__":
    main()
