#!/usr/bin/env python
"""Noise-augmented training speed: a straightforward loop against the pipeline's trainer.

The straightforward loop pushes each batch of B images x C noisy copies through the network in
one NCHW forward/backward pass. The pipeline (rsmooth.training.train) uses channels_last and
micro-batches with gradient accumulation (the same gradient up to summation order). Prints
noisy training samples per second for both.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rsmooth import cli, models, training  # noqa: E402


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
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--copies", type=int, default=10)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--micro-batch", type=int, default=0,
                   help="0: the pipeline's default on CPU (TrainConfig.micro_batch), whole batch on GPU")
    p.add_argument("--device", default="auto")
    a = p.parse_args()
    device = models.pick_device(a.device)
    cli.keep_freed_memory()  # as the pipeline's jobs do; the reference loop runs under it too
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    n = a.batch_size * (a.steps + 1)
    x, y = torch.rand(n, 1, 28, 28), torch.randint(0, 10, (n,))
    torch.manual_seed(0)
    ref = straightforward(models.PaperCNN(), x, y, 0.5, a.batch_size, a.copies, a.steps, device)
    micro = a.micro_batch or (training.TrainConfig().micro_batch if device.type == "cpu"
                              else a.batch_size * a.copies)
    cfg = training.TrainConfig(epochs=1, batch_size=a.batch_size, copies=a.copies, micro_batch=micro)
    torch.manual_seed(0)
    stats = training.train(models.PaperCNN(), x, y, 0.5, cfg, seed=0, device=device, log=lambda *m: None)
    dev = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {dev}; B = {a.batch_size}, C = {a.copies}")
    print("| training loop | noisy samples/s | speed-up |")
    print("| --- | --- | --- |")
    print(f"| straightforward (NCHW, one pass of B x C) | {ref:.0f} | 1.00x |")
    print(f"| pipeline (channels_last, micro-batch {micro}) | {stats['samples_per_s']:.0f} | {stats['samples_per_s'] / ref:.2f}x |")


if __name__ == "__main__":
    main()
