#!/usr/bin/env python
"""The variance components of the C3 contrast in finished runs, and what another design would
decide (docs/power.md).

Per results folder and beta: the per-seed contrasts, their mean, and the parts of the interval
as rsmooth.claims computes it (B between seeds, W a seed's bootstrap variance, I the images'
noise common to the seeds; SE, Welch-Satterthwaite df, half-width). The per-seed contrast is
X_s = theta + M_s + (1 / n) sum_i (c_i + j_si): model luck M (variance m), a part of each image
common to the seeds c (I = var c / n) and the image x model interaction with the vote noise j
(J = var j / n). So W = I + J, B = m + J, and

    m = B - (W - I),   J = W - I,   SE^2(S, n) = (m + J n0 / n) / S + I n0 / n

for S seeds and n test images (n0: the run's). The projection table gives, for each design, SE,
df, half-width, the chance that one run's lower bound clears 0 at ``--effect`` (normal
approximation), and the job seconds from the run's Snakemake benchmark files (CPU seconds:
training per seed; certification per image and cell; or the seconds given by --train-s and
--cert-s), for the whole grid and for the two cells of each contrast alone.

    python benchmarks/power_table.py results_a/mnist results_b/mnist --delta 0.2 --effect 0.0038
"""
import argparse
from pathlib import Path


DESIGNS = [(5, 3000), (10, 3000), (5, 10000), (10, 10000), (20, 6000), (3, 10000)]


def _of_seeds(paths, seeds):
    """The paths whose name ends in ``_seed{s}`` (before the suffix) for s in ``seeds`` (None: all)."""
    return [p for p in paths if seeds is None or any(p.stem.endswith(f"_seed{s}") for s in seeds)]


def contrast_parts(folder: Path, delta: float, n_boot: int, seed: int, seeds=None) -> list[dict]:
    """The contrast's variance parts per beta in one finished run (its ``seeds``, None: all)."""
    import numpy as np
    import pandas as pd

    from rsmooth import analysis, claims

    certs = _of_seeds(sorted(p for p in (folder / "certify").glob("*.csv") if not p.name.endswith(".env.csv")), seeds)
    errors = pd.concat([analysis.errors_from_certs(df) for df in analysis.read_certifications(certs).values()])
    alphas, betas, cubes = analysis.error_cubes(errors)
    grid = claims.Grid(alphas, betas, 15, 3, delta)  # window and order do not enter the contrast
    idx = next(iter(cubes.values()))[1]
    counts = claims.bootstrap_counts(np.random.default_rng([seed]), claims.halves(idx), n_boot)
    per = [claims.resample_seed(e, i, grid, counts) for e, i in cubes.values()]
    s, n = len(per), len(idx)
    rows = []
    for c, (j, at, lo) in enumerate(grid.contrasts):
        if lo is None:
            continue
        k = 2 + c
        point, boot = np.array([d.point[k] for d in per]), np.array([d.boot[:, k] for d in per])
        se, b, w, i = (float(v[0]) for v in claims.seeds_se(point[:, None], boot.var(axis=1, ddof=1)[:, None],
                                                             boot.mean(axis=0).var(ddof=1)[None]))
        pooled = claims.pool(point[:, None], boot[:, :, None], True, n, 0.95)
        rows.append({"folder": str(folder), "beta": betas[j], "seeds": s, "images": n,
                     "per_seed": " ".join(f"{v:+.4f}" for v in point), "mean": point.mean(),
                     "between_sd": np.sqrt(b), "within_se": np.sqrt(w), "common_se": np.sqrt(i),
                     "model_sd": np.sqrt(max(b - (w - i), 0.0)), "interaction_se": np.sqrt(max(w - i, 0.0)),
                     "se": se, "df": float(pooled.df[0]), "half_width": float(pooled.high[0] - pooled.estimate[0]),
                     "cells": len(alphas) * len(betas)})
    return rows


def job_seconds(folder: Path, seeds=None) -> dict:
    """CPU seconds from the run's benchmark files (of its ``seeds``): training, certification."""
    import pandas as pd

    bench = folder.parent / "benchmarks"
    dataset = folder.name

    def total(stage):
        files = _of_seeds(list((bench / stage / dataset).glob("*.tsv")), seeds)
        return sum(pd.read_csv(f, sep="\t")["cpu_time"].sum() for f in files), len(files)

    (train, _), (cert, n_cert) = total("train"), total("certify")
    return {"train": train, "cert": cert, "cert_jobs": n_cert}


def project(parts: dict, cost: dict, effect: float, level: float = 0.95) -> list[dict]:
    """SE, df, half-width, power and job seconds of each design in :data:`DESIGNS`."""
    import numpy as np
    from scipy.stats import norm, t

    from rsmooth import claims

    n0, s0 = parts["images"], parts["seeds"]
    m, j, i = parts["model_sd"] ** 2, parts["interaction_se"] ** 2, parts["common_se"] ** 2
    train_per_seed = cost["train"] / s0
    cert_per_image_cell = cost["cert"] / (cost["cert_jobs"] * n0)
    out = []
    for s, n in DESIGNS:
        b = m + j * n0 / n
        common = i * n0 / n
        se = np.sqrt(b / s + common)
        df = float(claims.welch_df(b, common, s, n))
        q = t.isf((1 - level) / 2, df)
        out.append({"beta": parts["beta"], "seeds": s, "images": n, "se": se, "df": df, "half_width": q * se,
                    f"power_at_{effect:g}": norm.sf(q - effect / se),
                    "job_s_full_grid": s * (train_per_seed + cert_per_image_cell * n * parts["cells"]),
                    "job_s_contrast_cells": s * (train_per_seed + cert_per_image_cell * n * 2)})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="+", type=Path, help="results/<dataset> folders with certify/")
    p.add_argument("--delta", type=float, required=True, help="the contrast's delta (the run's contrast_delta)")
    p.add_argument("--effect", type=float, default=0.0038, help="effect at which the power is computed")
    p.add_argument("--n-boot", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument("--seeds", type=int, nargs="+", help="only these training seeds (default: all in the folder)")
    p.add_argument("--train-s", type=float, help="training seconds per seed (default: the run's CPU seconds)")
    p.add_argument("--cert-s", type=float,
                   help="certification seconds per image and cell (default: the run's CPU seconds)")
    a = p.parse_args()
    import pandas as pd

    pd.set_option("display.width", 250)
    rows = [r for f in a.folders for r in contrast_parts(f, a.delta, a.n_boot, a.seed, a.seeds)]
    print(pd.DataFrame(rows).round(4).to_string(index=False))
    for f in a.folders:
        cost = job_seconds(f, a.seeds)
        seeds_run = next(r["seeds"] for r in rows if r["folder"] == str(f))
        images_run = next(r["images"] for r in rows if r["folder"] == str(f))
        if a.train_s:
            cost["train"] = a.train_s * seeds_run
        if a.cert_s:
            cost["cert"] = a.cert_s * cost["cert_jobs"] * images_run
        for r in (r for r in rows if r["folder"] == str(f)):
            print(f"\n{f}, beta {r['beta']:g} (training {cost['train'] / r['seeds']:.0f} s per seed, "
                  f"certification {cost['cert'] / cost['cert_jobs']:.0f} s per cell)")
            print(pd.DataFrame(project(r, cost, a.effect)).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
