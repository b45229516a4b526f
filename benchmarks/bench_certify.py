#!/usr/bin/env python
"""Certification speed on the machine at hand, against its own matrix-multiply peak.

Measures, in one run: the fp32 matmul peak (GFLOP/s and the implied ceiling in network
evaluations/s for the model measured), a straightforward reference loop (fp32 NCHW, 64 images x
100 draws per forward pass, votes counted image by image in Python), the pipeline's engine
(rsmooth.core.Smooth) without and with early stopping, the agreement of its votes and counts
with the reference on the same draws, and the share of forward passes early stopping saves per
beta. Prints a Markdown table. ``--legacy`` also times the engine as it was before issue 32
(noise from numpy's PCG64 on the host, drawn image by image; kept here, not in the package)
beside the current one (noise made on the device by rsmooth.rng), alternating the two
``--reps`` times on the same images and model. ``--dataset mnist`` measures the paper's CNN,
``--dataset cifar10`` the dataset's architecture in config.yaml (``fastnet``) or ``--arch``. Uses a trained
model and the real test images when given (or found in results/), else a randomly initialised
network on random images.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rsmooth import cli, core, data, models, runtime  # noqa: E402


def flops_per_image(model: torch.nn.Module, shape) -> int:
    """Floating-point operations of one forward pass of one image of ``shape`` [C, H, W]: two
    per multiply-add of every convolution and linear layer (normalisation, activations and
    pooling not counted), the convention of the benchmarks' "% of matmul peak"."""
    total = 0

    def count(m, inputs, out):
        nonlocal total
        if isinstance(m, torch.nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
            total += 2 * out[0].numel() * k
        elif isinstance(m, torch.nn.Linear):
            total += 2 * m.in_features * m.out_features

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, *shape, dtype=next(model.parameters()).dtype,
                                     device=next(model.parameters()).device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return total


DEFAULTS = {  # dataset -> (arch, image shape, the default run's model it measures)
    "mnist": ("cnn", (1, 28, 28), "alpha0.5_seed0.pt"),
    "cifar10": ("fastnet", (3, 32, 32), "alpha0.25_seed0.pt"),
}


def matmul_peak(device, n=2048, reps=10):
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(reps):
        sync(device)
        t = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def reference_counts(model, x, seed, n, beta, num_classes, device):
    """The straightforward loop: NCHW fp32, 64 images x n draws per pass, Python counting."""
    plain = model.to(memory_format=torch.contiguous_format)
    counts = np.zeros((len(x), num_classes), dtype=np.int64)
    with torch.inference_mode():
        for s in range(0, len(x), 64):
            xb = x[s:s + 64].contiguous()
            eps = np.concatenate([core.noise(seed, i, 0, n, tuple(x.shape[1:])) for i in range(s, s + len(xb))])
            noisy = xb.repeat_interleave(n, 0) + beta * torch.from_numpy(eps)
            pred = plain(noisy.to(device)).argmax(1).cpu().numpy()
            for j in range(len(xb)):
                for p in pred[j * n:(j + 1) * n]:
                    counts[s + j, p] += 1
    return counts


def legacy_vote(smooth, x, indices, n, seed, early_stop=True, stream=core.VOTE_STREAM):
    """``smooth.vote`` as it was before issue 32 (rsmooth/core.py at commit e6d47bf), for timing
    only: one numpy PCG64 generator per image seeded with ``(seed, index, stream)``, each
    image's share of a batch drawn in a Python loop, concatenated and copied to the device.
    Same schedule and votes semantics; other noise values. beta > 0 only."""
    bsz = x.shape[0]
    counts = np.zeros((bsz, smooth.num_classes), dtype=np.int64)
    n_evals = np.zeros(bsz, dtype=np.int64)
    shape = tuple(x.shape[1:])
    x_cpu = x.to('cpu', smooth.dtype)
    first_want = int(smooth._wants(np.zeros((1, smooth.num_classes), np.int64), np.array([n]), early_stop)[0])
    next_image = 0
    active = {}
    want = np.zeros(0, dtype=np.int64)
    while next_image < bsz or active:
        while next_image < bsz and want.sum() < smooth.batch_size:
            active[next_image] = np.random.default_rng([int(seed), int(indices[next_image]), int(stream)])
            want = np.append(want, first_want)
            next_image += 1
        owners, eps, room = [], [], smooth.batch_size
        for i, w in zip(active, want):
            take = int(min(w, room))
            eps.append(active[i].standard_normal((take, *shape), dtype=np.float32))
            owners.append(np.full(take, i))
            room -= take
            if room == 0:
                break
        owner = np.concatenate(owners)
        noisy = torch.from_numpy(np.concatenate(eps)).to(smooth.dtype).mul_(smooth.beta)
        noisy += x_cpu[owner]
        np.add.at(counts, (owner, smooth._predict(noisy)), 1)
        np.add.at(n_evals, owner, 1)
        idx = np.fromiter(active, dtype=np.int64, count=len(active))
        want = smooth._wants(counts[idx], n - n_evals[idx], early_stop)
        for i in idx[want == 0]:
            del active[int(i)]
        want = want[want > 0]
    return core.VoteResult(counts, n_evals, counts.argmax(axis=1))


def side_by_side(smooth, x, idx, n, reps, device):
    """Evaluations/s of the legacy engine and the current one, full vote and early stopping,
    alternating legacy, current, legacy, ... ``reps`` times each: {(engine, mode): [rates]}."""
    rates = {}
    engines = {"legacy (numpy PCG64 on the host)": lambda **k: legacy_vote(smooth, x, idx, n, 0, **k),
               "current (SplitMix64 on the device)": lambda **k: smooth.vote(x, idx, n, 0, **k)}
    for f in engines.values():
        f(early_stop=False)  # warm-up
    for _ in range(reps):
        for name, f in engines.items():
            for early in (False, True):
                sync(device)
                t = time.perf_counter()
                r = f(early_stop=early)
                sync(device)
                rates.setdefault((name, early), []).append(r.n_evals.sum() / (time.perf_counter() - t))
    return rates


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(DEFAULTS), default="mnist")
    p.add_argument("--arch", help="architecture (default: the dataset's)")
    p.add_argument("--model", help="state dict (default: results/<dataset>/models/ of a default run)")
    p.add_argument("--data", help="dataset cache (default: results/<dataset>/data.npz)")
    p.add_argument("--images", type=int, default=128, help="test images per measurement")
    p.add_argument("--n", type=int, default=100, help="draws per image (N)")
    p.add_argument("--beta", type=float, default=0.5)
    p.add_argument("--betas", type=float, nargs="+", default=[0.12, 0.25, 0.5, 0.75, 1.0])
    p.add_argument("--batch-size", type=int, default=0, help="engine batch (0: 128 on CPU, 4096 on GPU)")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", type=Path, help="also write the numbers as JSON")
    p.add_argument("--legacy", action="store_true",
                   help="also time the pre-issue-32 engine (numpy noise on the host) beside the current one")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: every CPU; jobs use 1)")
    p.add_argument("--reps", type=int, default=5, help="alternations of the two engines with --legacy")
    p.add_argument("--skip-reference", action="store_true", help="with --legacy: only the side-by-side table")
    a = p.parse_args()

    device = runtime.pick_device(a.device)
    cli.keep_freed_memory()  # as the pipeline's jobs do; the reference loop runs under it too
    threads = a.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    bs = a.batch_size or (4096 if device.type == "cuda" else 128)
    arch, shape, default_model = DEFAULTS[a.dataset]
    arch = a.arch or arch
    model_path = Path(a.model or f"results/{a.dataset}/models/{default_model}")
    data_path = Path(a.data or f"results/{a.dataset}/data.npz")
    model = models.build_model(arch, shape[0], 10, shape[1])
    source = "random weights, random images"
    if model_path.exists() and data_path.exists():
        runtime.load_state(model, model_path)
        ds = data.load_cache(data_path)
        x = data.to_float(ds.x_test[:a.images]).contiguous()
        source = f"{model_path} on {data_path}"
    else:
        x = torch.rand(a.images, *shape)
    model.eval().to(device)
    idx = np.arange(len(x))
    dev_name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {threads} threads"
    if a.legacy:
        print_side_by_side(model, x, idx, a, bs, device, dev_name, arch, source)
        if a.skip_reference:
            return
    peak = matmul_peak(device)
    flop_per_eval = flops_per_image(model, shape)
    ceiling = peak * 1e9 / flop_per_eval

    ref_model = models.build_model(arch, shape[0], 10, shape[1])
    ref_model.load_state_dict(model.state_dict())
    ref_model.eval().to(device)
    reference_counts(ref_model, x[:8], 0, 10, a.beta, 10, device)  # warm-up
    t = time.perf_counter()
    ref = reference_counts(ref_model, x, 0, a.n, a.beta, 10, device)
    ref_rate = len(x) * a.n / (time.perf_counter() - t)

    model.to(memory_format=torch.channels_last)
    smooth = core.Smooth(model, 10, a.beta, batch_size=bs, device=device)
    smooth.vote(x[:8], idx[:8], 10, 0, early_stop=False)  # warm-up
    t = time.perf_counter()
    full = smooth.vote(x, idx, a.n, 0, early_stop=False)
    eng_rate = len(x) * a.n / (time.perf_counter() - t)
    t = time.perf_counter()
    es = smooth.vote(x, idx, a.n, 0, early_stop=True)
    es_time = time.perf_counter() - t
    es_rate = es.n_evals.sum() / es_time

    same_counts = int((full.counts == ref).all(axis=1).sum())
    same_votes = int((full.vote == ref.argmax(1)).sum())
    same_es = int((es.vote == full.vote).sum())
    saved = {}
    for b in a.betas:
        r = core.Smooth(model, 10, b, batch_size=bs, device=device).vote(x, idx, a.n, 0, early_stop=True)
        saved[b] = 1 - r.n_evals.sum() / (len(x) * a.n)

    print(f"device: {dev_name}; torch {torch.__version__}; {arch}: {source}")
    print(f"{len(x)} images x N = {a.n} draws at beta = {a.beta}; engine batch {bs}\n")
    print("| what | evaluations/s | % of matmul peak | speed-up |")
    print("| --- | --- | --- | --- |")
    print(f"| fp32 matmul peak: {peak:.0f} GFLOP/s ({flop_per_eval / 1e6:.1f} MFLOP per evaluation) | {ceiling:.0f} | 100% | |")
    print(f"| reference loop (NCHW, 64 x {a.n} per pass, Python counting) | {ref_rate:.0f} | {100 * ref_rate / ceiling:.0f}% | 1.00x |")
    print(f"| engine, full vote | {eng_rate:.0f} | {100 * eng_rate / ceiling:.0f}% | {eng_rate / ref_rate:.2f}x |")
    print(f"| engine, early stopping (evaluations made) | {es_rate:.0f} | {100 * es_rate / ceiling:.0f}% | {es_rate / ref_rate:.2f}x |")
    print(f"| engine, early stopping (effective: full-vote draws decided per second) | {len(x) * a.n / es_time:.0f} | | {len(x) * a.n / es_time / ref_rate:.2f}x |")
    print(f"\nagreement with the reference on the same draws: counts identical for {same_counts}/{len(x)} images, "
          f"votes for {same_votes}/{len(x)}; early-stopped votes equal full votes for {same_es}/{len(x)}")
    print("\n| beta | " + " | ".join(f"{b:g}" for b in a.betas) + " |")
    print("| --- |" + " --- |" * len(a.betas))
    print("| forward passes saved by early stopping | " + " | ".join(f"{100 * s:.1f}%" for s in saved.values()) + " |")
    if a.json:
        a.json.write_text(json.dumps({"device": dev_name, "arch": arch, "peak_gflops": peak,
                                      "flop_per_eval": flop_per_eval, "ceiling": ceiling,
                                      "reference": ref_rate, "engine": eng_rate, "early_stop": es_rate,
                                      "same_counts": same_counts, "same_votes": same_votes,
                                      "images": len(x), "saved": saved}, indent=1))


def print_side_by_side(model, x, idx, a, bs, device, dev_name, arch, source):
    model.to(memory_format=torch.channels_last)
    smooth = core.Smooth(model, 10, a.beta, batch_size=bs, device=device)
    rates = side_by_side(smooth, x, idx, a.n, a.reps, device)
    print(f"device: {dev_name}; torch {torch.__version__}; {arch}: {source}")
    print(f"{len(x)} images x N = {a.n} draws at beta = {a.beta}; engine batch {bs}; "
          f"{a.reps} alternations, median (min-max) evaluations/s\n")
    print("| engine | full vote | early stopping (evaluations made) |")
    print("| --- | --- | --- |")
    med = {}
    for name in dict.fromkeys(k[0] for k in rates):
        cells = []
        for early in (False, True):
            r = np.array(rates[(name, early)])
            med[(name, early)] = float(np.median(r))
            cells.append(f"{np.median(r):.0f} ({r.min():.0f}-{r.max():.0f})")
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    names = list(dict.fromkeys(k[0] for k in rates))
    ratio = {e: np.array(rates[(names[1], e)]) / np.array(rates[(names[0], e)]) for e in (False, True)}
    print(f"| current / legacy, median of the {a.reps} adjacent pairs (min-max) | "
          + " | ".join(f"{np.median(ratio[e]):.3f} ({ratio[e].min():.3f}-{ratio[e].max():.3f})" for e in (False, True))
          + " |\n")


if __name__ == "__main__":
    main()
