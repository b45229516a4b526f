#!/usr/bin/env python
"""Decide the paper's MNIST claims C1-C3 from per-image certification CSVs.

C1: the risk of h_0 grows with beta; C2: alpha*(beta) grows with beta; C3: at beta > 0 training
at alpha = beta costs risk against alpha*. Writes one row per claim (and beta, for C3) with the
estimate, its interval, the verdict (supported / contradicted / undecided; "(conditional on
models)" with one seed) and how it was computed (rsmooth/claims.py), and a forest plot of them.
Every input is checked before anything is written.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rsmooth import cli  # noqa: E402


def read_certs(paths):
    """The errors table of all CSVs, each checked first (rsmooth.analysis.read_certifications:
    a ValueError names the file of anything malformed, truncated, repeated or covering other
    images)."""
    import pandas as pd

    from rsmooth import analysis, claims

    tables = analysis.read_certifications(paths)
    return pd.concat([claims.errors_from_certs(df) for df in tables.values()], ignore_index=True)


def parser() -> argparse.ArgumentParser:
    """The command line; every default comes from the config schema (rsmooth/defaults.py)."""
    from rsmooth import defaults

    an = defaults.dataset("analysis")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("--certs", required=True, nargs="+", type=cli.existing_file, help="per-image CSVs")
    p.add_argument("--dataset", default="", help="dataset name, for the figure title")
    p.add_argument("--savgol-window", type=cli.positive_int, default=an["savgol_window"],
                   help="Savitzky-Golay window")
    p.add_argument("--savgol-order", type=cli.nonneg_int, default=an["savgol_order"],
                   help="Savitzky-Golay order")
    p.add_argument("--level", type=cli.probability, default=an["level"], help="confidence level")
    p.add_argument("--n-boot", type=cli.positive_int, default=an["n_boot"], help="bootstrap resamples")
    p.add_argument("--rng-seed", type=cli.nonneg_int, default=an["bootstrap_seed"],
                   help="seed of the bootstrap (the rule derives it from bootstrap_seed and the dataset)")
    p.add_argument("--out", required=True, type=Path, help="claims table (CSV) to write")
    p.add_argument("--figure", type=Path, help="forest plot stem: writes STEM.png and STEM.pdf")
    return p


def main() -> None:
    a = parser().parse_args()

    from rsmooth import claims, io

    errors = read_certs(a.certs)
    table = claims.decide_claims(errors, a.savgol_window, a.savgol_order, a.level, a.n_boot, a.rng_seed)
    fig = claims.claims_figure(table, a.dataset) if a.figure else None
    io.write_csv(table, a.out)
    if fig is not None:
        io.save_figure(fig, a.figure)
    print(table[["claim", "beta", "estimate", "low", "high", "verdict"]].to_string(index=False))


if __name__ == "__main__":
    cli.run(main)
