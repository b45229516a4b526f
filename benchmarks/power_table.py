#!/usr/bin/env python
"""The variance components of the C3 contrast in finished runs, for the power study
(docs/power.md): per results folder and beta, the per-seed contrasts, their mean, the
between-seed sd B^(1/2), the within-seed bootstrap SE W^(1/2), the images' noise common to the
seeds I^(1/2), the interval's SE and half-width (as rsmooth.claims computes them), and the seeds
a given half-width would need.

    python benchmarks/power_table.py results_a/mnist results_b/mnist --delta 0.2
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def components(folder: Path, delta: float, n_boot: int, seed: int):
    import numpy as np
    import pandas as pd
    from scipy.stats import t

    from rsmooth import analysis, claims

    certs = sorted(p for p in (folder / "certify").glob("*.csv") if not p.name.endswith(".env.csv"))
    errors = pd.concat([analysis.errors_from_certs(df) for df in analysis.read_certifications(certs).values()])
    alphas, betas, cubes = analysis.error_cubes(errors)
    plan = claims._Plan(alphas, betas, 15, 3, delta)
    per = [claims._seed(e, idx, plan, n_boot, np.random.default_rng([seed])) for e, idx in cubes.values()]
    s = len(per)
    rows = []
    for c, (j, near, lo) in enumerate(plan.contrasts):
        if lo is None:
            continue
        k = 2 + c
        point = np.array([d["point"][k] for d in per])
        se, b, w, i = claims.seeds_se(point, np.array([d["var"][k] for d in per]),
                                      np.array([d["boot"][:, k] for d in per]), shared=True)
        rows.append({"folder": str(folder), "beta": betas[j], "seeds": s, "images": len(next(iter(cubes.values()))[1]),
                     "per_seed": " ".join(f"{v:+.4f}" for v in point), "mean": point.mean(),
                     "between_sd": np.sqrt(b), "within_se": np.sqrt(w), "common_se": np.sqrt(i), "se": se,
                     "half_width": t.ppf(0.975, s - 1) * se})
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folders", nargs="+", type=Path, help="results/<dataset> folders with certify/")
    p.add_argument("--delta", type=float, default=0.2)
    p.add_argument("--n-boot", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    import pandas as pd

    rows = [r for f in a.folders for r in components(f, a.delta, a.n_boot, a.seed)]
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
