#!/usr/bin/env python
"""MNIST training recipes compared on held-out training images: accuracy under noise, and the
smoothed classifier's risk, against the CPU seconds of training.

A recipe must be chosen on data the claims and the paper comparison never see (issues 23 and
33). This script trains on the first ``--train`` MNIST training images and scores on the last
``--val`` (never the test split). Each recipe is a base h_0 (from scratch, no noise) and
fine-tunes h_alpha of it at each ``--alphas``, with common random numbers within a seed (as the
pipeline trains; ``--no-common-noise``: each alpha draws its own batches and noise, for the
power study). The measured training seconds are in the table.

Per (recipe, seed, alpha) it writes the validation error of the base classifier under Gaussian
noise of std ``beta`` for each ``--betas`` (``--draws`` draws per image), and with
``--smoothed N`` the risk of the smoothed classifier (the paper's majority vote over N draws,
rsmooth.core.Smooth, early stopping) at the ``--cells`` alpha:beta. The summary prints, per
recipe, the mean and between-seed sd of the errors, the paired difference
err(alpha = beta) - err(alpha = beta - 0.2) at each beta (the noise that limits C3), and the
smoothed risks beside the paper's at the same cells (reference/, its test set: a yardstick, not
the same images).

    python benchmarks/bench_recipe.py --data-root ../shared/data --out recipe.csv
    python benchmarks/bench_recipe.py --data-root ../shared/data --recipes fidelity-claims \
        fidelity-1ep fidelity-3ep --seeds 0 --alphas 0.5 0.7 --betas 0.5 0.9 --val 5000 \
        --smoothed 100 --cells 0.5:0.5 0.7:0.9 --per-recipe --out recipe_fidelity.csv
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
# Issue 33's study, one h_0 (2 epochs, one-cycle) and fine-tunes of growing cost: the claims
# preset's (12,000 images x 4 copies, 1 epoch), then all images x 1 copy for 1 or 3 epochs.
_BASE2 = {**_CYCLE, "epochs": 2}
RECIPES.update({
    "fidelity-claims": (_BASE2, {"train_images": 12000, "copies": 4, **_CYCLE}),
    "fidelity-1ep": (_BASE2, {"train_images": 0, "copies": 1, **_CYCLE}),
    "fidelity-3ep": (_BASE2, {"train_images": 0, "copies": 1, "epochs": 3, **_CYCLE}),
})
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
    import numpy as np
    import torch

    from rsmooth import cli, config, models, training
    from rsmooth.core import Smooth
    from rsmooth.seeding import derive_seed

    schema = config.defaults()["train"]["noisy"]

    names, seed, alphas, betas, draws, root, n_train, n_val, common, smoothed, cells = task
    cli.set_threads(1)
    x, y, xv, yv = _data(root, n_train, n_val)
    base_cfg = RECIPES[names[0]][0]
    dev = torch.device("cpu")

    def fresh():
        torch.manual_seed(derive_seed(seed, "init", "cnn"))
        return models.with_normalize(models.build_model("cnn", 1, 10, 28), 1)

    rows, h0 = [], fresh()
    t = time.perf_counter()
    training.train(h0, x, y, 0.0, training.TrainConfig(**{**schema, **COMMON, "train_images": 0,
                                                              "copies": 1, **base_cfg}),
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
        for a_cell, beta in cells if smoothed else []:
            if a_cell == alpha:
                smooth = Smooth(model.eval(), 10, beta, device=dev)
                vote = smooth.vote(xv, np.arange(n_train, n_train + len(xv)), smoothed,
                                   derive_seed(seed, "val-smoothed"), early_stop=True).vote
                row[f"risk_{beta:g}"] = float((vote != yv.numpy()).mean())
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
    p.add_argument("--smoothed", type=int, default=0, metavar="N",
                   help="also the smoothed classifier's risk, a vote over N draws, at --cells")
    p.add_argument("--cells", nargs="+", default=[], metavar="ALPHA:BETA",
                   help="the (alpha, beta) of the smoothed risks")
    p.add_argument("--per-recipe", action="store_true",
                   help="one process per (seed, recipe), each training its own copy of h_0 (the "
                        "same bits): parallel recipes at the cost of repeating h_0")
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    import pandas as pd

    from rsmooth import io

    cells = [tuple(float(v) for v in c.split(":")) for c in a.cells]
    bases = {}  # recipes that share a base recipe share its h_0
    for r in a.recipes:
        bases.setdefault(r if a.per_recipe else repr(RECIPES[r][0]), []).append(r)
    tasks = [(names, s, a.alphas, a.betas, a.draws, a.data_root, a.train, a.val, a.common_noise,
              a.smoothed, cells) for s in a.seeds for names in bases.values()]
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
    if a.smoothed and cells:
        from rsmooth import reference

        paper, _ = reference.load_reference(Path(__file__).resolve().parents[1] / "reference" /
                                            "pal_sulam_2023_mnist_risk.csv")
        for alpha, beta in cells:
            ref = paper[(paper["alpha"].round(6) == alpha) & (paper["beta"].round(6) == beta)]["risk"]
            got = df[df["alpha"] == alpha].groupby("recipe")[f"risk_{beta:g}"].agg(["mean", "std"])
            if len(ref):
                got["x_paper"] = got["mean"] / float(ref.iloc[0])
            print(f"\nsmoothed risk at alpha {alpha:g}, beta {beta:g} on {a.val} held-out training "
                  f"images (N = {a.smoothed}; the paper's on its test set: "
                  f"{float(ref.iloc[0]) if len(ref) else float('nan'):.4f}):\n{got.round(4)}")


if __name__ == "__main__":
    main()
