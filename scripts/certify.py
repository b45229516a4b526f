#!/usr/bin/env python
"""Smoothed predictions and certified radii of one base classifier h_alpha at noise beta.

For each of --n-test test images (a --sample of the test set, the same for every job of a
run; 0: all of them): the majority vote of h_alpha over --n-votes draws
of x + beta * eps (the paper's smoothed prediction), then Cohen et al.'s CERTIFY with the vote as
the selection step and --n-cert further draws (0: no radii). The noise of image i depends only
on (--seed, i): the same for every alpha and beta. Writes one CSV row per image.
"""
import argparse
import time
from pathlib import Path

from rsmooth import cli


def parser() -> argparse.ArgumentParser:
    """The command line. Options that name a config key have no default here: the rule passes
    each (its default lives in the schema alone)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("--model", required=True, type=cli.existing_file, help="state dict of h_alpha (.pt)")
    p.add_argument("--data", required=True, type=cli.existing_file, help="dataset cache (.npz)")
    cli.model_options(p)
    p.add_argument("--alpha", required=True, type=cli.nonneg_float, help="training noise of the model (a label)")
    p.add_argument("--beta", required=True, type=cli.nonneg_float, help="smoothing noise std (pixels)")
    p.add_argument("--seed", type=cli.nonneg_int, required=True, help="noise seed")
    p.add_argument("--n-test", type=cli.nonneg_int, required=True, help="test images to certify (0: all)")
    p.add_argument("--sample", choices=["random", "first"], required=True,
                   help="which --n-test images: a seeded uniform sample, or the first (rsmooth.data.test_sample)")
    p.add_argument("--sample-seed", type=cli.nonneg_int, required=True, help="seed of the random sample")
    p.add_argument("--n-votes", type=cli.positive_int, required=True, help="N: draws for the vote")
    p.add_argument("--n-cert", type=cli.nonneg_int, required=True, help="n: draws for the radius (0: none)")
    p.add_argument("--failure-prob", type=cli.probability, required=True,
                   help="CERTIFY's failure probability")
    p.add_argument("--batch-size", type=cli.positive_int, required=True,
                   help="noisy copies per forward pass (speed only)")
    p.add_argument("--early-stop", action=argparse.BooleanOptionalAction, required=True,
                   help="stop drawing once a vote is decided (same votes, fewer evaluations)")
    p.add_argument("--device", required=True, help="auto, cpu, cuda or cuda:N")
    p.add_argument("--threads", type=cli.nonneg_int, required=True,
                   help="torch CPU threads (0: every CPU; the count can change the bits)")
    p.add_argument("--out", required=True, type=Path, help="per-image CSV to write")
    p.add_argument("--env", type=Path, help="one-row CSV of the environment to write (versions, "
                   "device, CPU ISA, threads)")
    return p


def main() -> None:
    a = parser().parse_args()

    import numpy as np
    import pandas as pd
    import torch
    from tqdm import tqdm

    from rsmooth import data, io, models, provenance, rng, runtime
    from rsmooth.core import Smooth

    threads = cli.set_threads(a.threads)
    device = runtime.pick_device(a.device)
    ds = data.load_cache(a.data, train=False)
    if a.n_test > len(ds.x_test):
        raise ValueError(f"--n-test {a.n_test} exceeds the {len(ds.x_test)} test images of "
                         f"{a.data} (config key certify.n_test; 0 = all)")
    index = data.test_sample(len(ds.x_test), a.n_test, a.sample, a.sample_seed)
    n_test = len(index)
    c, h, _ = ds.shape
    net = runtime.load_state(models.build_model(a.arch, c, ds.num_classes, h), a.model)
    model = models.with_normalize(net, c, a.mean, a.std)  # after the noise, inside h
    model.to(device).to(memory_format=torch.channels_last).eval()
    x = data.to_float(ds.x_test[index])
    y = ds.y_test[index]
    runtime.check_finite(model, x[:a.batch_size].to(device).contiguous(memory_format=torch.channels_last), a.model)
    smooth = Smooth(model, ds.num_classes, a.beta, batch_size=a.batch_size, device=device)
    print(f"certifying alpha={a.alpha:g} beta={a.beta:g} seed={a.seed}: {n_test} images "
          f"({'all' if n_test == len(ds.x_test) else a.sample}), "
          f"N={a.n_votes}, n={a.n_cert}, on {device} ({threads} threads)")
    t0 = time.perf_counter()
    with tqdm(total=n_test, desc="images", mininterval=5, ascii=True) as bar:
        r = smooth.certify(x, index, a.n_votes, a.n_cert, a.failure_prob, a.seed,
                           early_stop=a.early_stop, progress=bar)
    wall = time.perf_counter() - t0
    counts = np.sort(r.vote.counts, axis=1)
    df = pd.DataFrame({
        "alpha": a.alpha, "beta": a.beta, "seed": a.seed, "index": index, "label": y,
        "vote": r.vote.vote, "count_top": counts[:, -1],
        "count_second": counts[:, -2] if counts.shape[1] > 1 else 0,
        "n_evals": r.vote.n_evals, "count_cert": r.count_cert, "p_lower": r.p_lower,
        "radius": r.radius, "abstain": (a.n_cert > 0) & np.isnan(r.radius),
        "correct": r.vote.vote == y})
    df["abstain"] = df["abstain"].astype(int)
    df["correct"] = df["correct"].astype(int)
    io.write_csv(df[["alpha", "beta", "seed"] + io.PER_IMAGE_COLUMNS], a.out)
    if a.env is not None:
        env = {"alpha": a.alpha, "beta": a.beta, "seed": a.seed, **provenance.environment(device, threads, rng.ENGINE)}
        io.write_csv(pd.DataFrame([env]), a.env)
    evals = int(r.vote.n_evals.sum()) + a.n_cert * n_test * (a.beta > 0)
    print(f"risk {1 - df['correct'].mean():.4f}; {evals} evaluations in {wall:.2f} s "
          f"({evals / wall:.0f}/s); early stopping saved "
          f"{1 - r.vote.n_evals.sum() / (a.n_votes * n_test):.1%} of the vote's draws")


if __name__ == "__main__":
    cli.run(main)
