#!/usr/bin/env python
"""MNIST training recipes compared by accuracy per CPU second on held-out training images.

Issue 23, item 4: a recipe must be chosen on data the claims never see. This script trains on
the first ``--train`` MNIST training images and scores on the last ``--val`` (never the test
split). Each recipe is a base h_0 (from scratch, no noise) and fine-tunes h_alpha of it at
each ``--alphas``, with common random numbers within a seed (as the pipeline trains;
``--no-common-noise``: each alpha draws its own batches and noise, for the power study). Every
recipe costs the same number of noisy samples per fine-tune, so its accuracy is accuracy per
CPU second; the measured training seconds are in the table too.

Per (recipe, seed, alpha) it writes the validation accuracy of the base classifier under
Gaussian noise of std ``beta`` for each ``--betas`` (``--draws`` draws per image: the risk of
the smoothed classifier follows it closely and costs N times more), and the summary prints,
per recipe, the mean and between-seed sd of the error, and of the paired difference
err(alpha = beta) - err(alpha = beta - 0.2) at each beta: the noise that limits C3.

    python benchmarks/bench_recipe.py --data-root ../shared/data --out recipe.csv
"""
import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


# name: (base recipe, fine-tune recipe); every fine-tune draws 48,000 noisy samples.
_CONST = {"schedule": "step", "gamma": 0.7}   # one epoch: a constant learning rate
_CYCLE = {"schedule": "onecycle"}              # per step: warm-up over a quarter, then down
RECIPES = {
    "claims-2026-12-01": (_CONST, {"train_images": 12000, "copies": 4, **_CONST}),
    "distinct-images": (_CONST, {"train_images": 48000, "copies": 1, **_CONST}),
    "onecycle": (_CYCLE, {"train_images": 12000, "copies": 4, **_CYCLE}),
    "onecycle-distinct": (_CYCLE, {"train_images": 48000, "copies": 1, **_CYCLE}),
}
COMMON = {"epochs": 1, "batch_size": 64, "optimizer": "adadelta", "lr": 1.0}  # over the schema's defaults


def _data(root, n_train, n_val):
    import torch

    from rsmooth import data

    a = data.fetch("mnist", root)
    x, y = data.to_float(a.x_train), torch.from_numpy(a.y_train)
    return x[:n_train], y[:n_train], x[-n_val:], y[-n_val:]


def job(task):
    """Train one base recipe's h_0 for one seed and, from it, the fine-tunes of every recipe
    that shares that base; return one row per (recipe, alpha)."""
    import torch

    from rsmooth import cli, config, models, training
    from rsmooth.seeding import derive_seed

    schema = config.defaults()["train"]["noisy"]

    names, seed, alphas, betas, draws, root, n_train, n_val, common = task
    cli.set_threads(1)
    x, y, xv, yv = _data(root, n_train, n_val)
    base_cfg = RECIPES[names[0]][0]
    dev = torch.device("cpu")

    def fresh():
        torch.manual_seed(derive_seed(seed, "init", "cnn"))
        return models.with_normalize(models.build_model("cnn", 1, 10, 28), 1)

    rows, h0 = [], fresh()
    t = time.perf_counter()
    training.train(h0, x, y, 0.0, training.TrainConfig(**{**schema, **COMMON, "copies": 1, **base_cfg}),
                   training.train_seed(seed, 0.0, True), dev, log=lambda *_: None)
    base_s = time.perf_counter() - t
    for name, alpha in [(n, al) for n in names for al in alphas]:
        noisy_cfg = RECIPES[name][1]
        model = fresh()
        model.load_state_dict(h0.state_dict())
        t = time.perf_counter()
        if alpha > 0:
            training.train(model, x, y, alpha, training.TrainConfig(**{**schema, **COMMON, **noisy_cfg}),
                           training.train_seed(seed, alpha, common), dev, log=lambda *_: None)
        row = {"recipe": name, "common_noise": common, "seed": seed, "alpha": alpha, "base_train_s": base_s,
               "train_s": time.perf_counter() - t}
        for beta in betas:
            acc = [training.accuracy(model, xv, yv, dev, noise=beta,
                                     seed=derive_seed(seed, "val", f"{beta:g}", d)) for d in range(draws)]
            row[f"err_{beta:g}"] = 1 - sum(acc) / draws
        rows.append(row)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", required=True)
    p.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--alphas", nargs="+", type=float, default=[0.7, 0.9])
    p.add_argument("--betas", nargs="+", type=float, default=[0.7, 0.9])
    p.add_argument("--draws", type=int, default=2, help="noise draws per validation image")
    p.add_argument("--train", type=int, default=50000, help="first K training images")
    p.add_argument("--val", type=int, default=10000, help="last K training images (held out)")
    p.add_argument("--workers", type=int, default=2, help="processes, one torch thread each")
    p.add_argument("--common-noise", action=argparse.BooleanOptionalAction, default=True,
                   help="fine-tunes of a seed share batches and noise directions (h_0 is shared either way)")
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    import pandas as pd

    from rsmooth import io

    bases = {}  # recipes that share a base recipe share its h_0
    for r in a.recipes:
        bases.setdefault(repr(RECIPES[r][0]), []).append(r)
    tasks = [(names, s, a.alphas, a.betas, a.draws, a.data_root, a.train, a.val, a.common_noise)
             for s in a.seeds for names in bases.values()]
    with ProcessPoolExecutor(a.workers) as pool:
        rows = [row for result in pool.map(job, tasks) for row in result]
    df = pd.DataFrame(rows)
    io.write_csv(df, a.out)
    for beta in a.betas:
        err = df.pivot_table(index=["recipe", "seed"], columns="alpha", values=f"err_{beta:g}")
        summary = err.groupby("recipe").agg(["mean", "std"]).round(4)
        print(f"\nvalidation error at noise {beta:g} (mean, sd over {len(a.seeds)} seeds):\n{summary}")
        lo = round(beta - 0.2, 6)
        if beta in err and lo in err:
            d = (err[beta] - err[lo]).groupby("recipe").agg(["mean", "std"]).round(4)
            print(f"err(alpha {beta:g}) - err(alpha {lo:g}):\n{d}")
    print("\ntraining seconds (mean):\n", df.groupby("recipe")[["base_train_s", "train_s"]].mean().round(1))


if __name__ == "__main__":
    main()
