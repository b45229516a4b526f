#!/usr/bin/env python
"""What a "first K" test sample does to the risk: measured on a finished run that certified the
whole test set (e.g. config/fidelity.yaml's MNIST).

For every certification table of the run (one per alpha, beta, seed; it must cover every test
image), the risk of the smoothed classifier over all images, over the first K and over the
pipeline's random sample of K (``rsmooth.data.test_sample``, ``--sample-seed``), for each
``--k``, and over each half of the test set. Prints a Markdown table with the ratio of each
sample's risk to the whole set's (summed over the tables, so that cells with few errors do not
dominate) and writes the per-table numbers to ``--out``.

    python benchmarks/sample_bias.py results/mnist/certify --k 500 3000 --out sample_bias.csv
"""
import argparse
from pathlib import Path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("certify", type=Path, help="a run's results/DATASET/certify folder")
    p.add_argument("--k", type=int, nargs="+", default=[500, 3000])
    p.add_argument("--sample-seed", type=int, default=0)
    p.add_argument("--out", type=Path)
    a = p.parse_args()

    import numpy as np
    import pandas as pd

    from rsmooth import analysis, data, io

    tables = analysis.read_certifications(sorted(str(f) for f in a.certify.glob("alpha*_beta*_seed*.csv")
                                                 if not f.name.endswith(".env.csv")))
    rows, samples = [], {}  # samples: the random sample of each size, drawn once
    for df in tables.values():
        err = (1 - df["correct"].to_numpy()).astype(float)
        n = len(err)
        if not np.array_equal(df["index"].to_numpy(), np.arange(n)):
            raise SystemExit(f"{a.certify}: the tables must cover every test image (n_test 0)")
        for k in a.k:
            samples.setdefault((n, k), data.test_sample(n, k, "random", a.sample_seed))
        row = {c: df[c].iloc[0] for c in ("alpha", "beta", "seed")}
        row.update({"n": n, "all": err.sum(), "first_half": err[: n // 2].sum(), "last_half": err[n // 2:].sum()})
        for k in a.k:
            row[f"first_{k}"] = err[:k].sum()
            row[f"random_{k}"] = err[samples[(n, k)]].sum()
        rows.append(row)
    t = pd.DataFrame(rows).sort_values(["seed", "beta", "alpha"])
    if a.out:
        io.write_csv(t, a.out)
    n = int(t["n"].iloc[0])
    size = {"all": n, "first_half": n // 2, "last_half": n - n // 2,
            **{f"{w}_{k}": k for k in a.k for w in ("first", "random")}}
    print(f"{len(t)} tables over {n} test images; errors summed over the tables, risk per image:\n")
    print("| sample | images | risk | / whole set |\n| --- | --- | --- | --- |")
    whole = t["all"].sum() / (len(t) * n)
    for col, k in size.items():
        r = t[col].sum() / (len(t) * k)
        print(f"| {col.replace('_', ' ')} | {k} | {r:.4f} | {r / whole:.2f} |")
    # per table: each sample's risk over the whole set's (the cells of low risk, where the
    # paper's alpha* lies, are where a sample's bias moves a comparison most)
    cols = ["first_half", "last_half"] + [f"{w}_{k}" for k in a.k for w in ("first", "random")]
    print("\n| alpha | beta | seed | risk, all | " + " | ".join(c.replace("_", " ") + " / all" for c in cols)
          + " |\n|" + " --- |" * (4 + len(cols)))
    for r in t.itertuples():
        whole = r.all / n
        ratios = [getattr(r, c) / size[c] / whole if whole else float("nan") for c in cols]
        print(f"| {r.alpha:g} | {r.beta:g} | {r.seed} | {whole:.4f} | " + " | ".join(f"{x:.2f}" for x in ratios) + " |")
    low = t[t["all"] / n < 0.05]
    if len(low):
        med = {c: float(((low[c] / size[c]) / (low["all"] / n)).median()) for c in cols}
        print(f"\nmedian over the {len(low)} tables with risk < 0.05: "
              + ", ".join(f"{c.replace('_', ' ')} {v:.2f}x" for c, v in med.items()))


if __name__ == "__main__":
    main()
