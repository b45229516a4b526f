#!/usr/bin/env python
"""The analysis of per-image certification CSVs: alpha*(beta) and the paper's claims C1-C3.

C1: the risk of h_0 grows with beta; C2: alpha*(beta) grows with beta; C3: at beta > 0 training
at alpha = beta is beaten by a smaller alpha (primary: the contrast against alpha = beta -
delta, fixed before the run; secondary: the cross-fitted gap against alpha* and the alpha*
confidence set). Writes the claims (estimate, interval, verdict: supported / contradicted /
undecided, "(conditional on models)" with one seed, and how it was computed: rsmooth/claims.py);
alpha* per seed and beta with its confidence set and the seed's contrast and gap; alpha* over
seeds with its set; and the measured and fitted risk curves. Every input is checked before
anything is written. It draws nothing: scripts/figures.py draws these tables (claims, alpha_star,
risk_curves).
"""
import argparse
from pathlib import Path

from rsmooth import cli  # noqa: E402


def read_certs(paths):
    """The errors table of all CSVs, each checked first (rsmooth.analysis.read_certifications:
    a ValueError names the file of anything malformed, truncated, repeated or covering other
    images)."""
    import pandas as pd

    from rsmooth import analysis

    tables = analysis.read_certifications(paths)
    return pd.concat([analysis.errors_from_certs(df) for df in tables.values()], ignore_index=True)


def parser() -> argparse.ArgumentParser:
    """The command line. Options that name a config key have no default here: the rule passes
    each (its default lives in the schema alone)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("--certs", required=True, nargs="+", type=cli.existing_file, help="per-image CSVs")
    p.add_argument("--dataset", default="", help="dataset name, written as a column")
    p.add_argument("--savgol-window", type=cli.positive_int, required=True,
                   help="Savitzky-Golay window")
    p.add_argument("--savgol-order", type=cli.nonneg_int, required=True,
                   help="Savitzky-Golay order")
    c3 = p.add_mutually_exclusive_group(required=True)
    c3.add_argument("--contrast-delta", type=cli.positive_float,
                   help="C3 contrast: risk(alpha=beta) - risk(alpha=beta-delta)")
    c3.add_argument("--no-contrast", dest="contrast_delta", action="store_const", const=None,
                   help="no C3 contrast rows (config contrast_delta: null)")
    p.add_argument("--level", type=cli.probability, required=True, help="confidence level")
    p.add_argument("--n-boot", type=cli.positive_int, required=True, help="bootstrap resamples")
    p.add_argument("--rng-seed", type=cli.nonneg_int, required=True,
                   help="seed of the bootstrap (the rule derives it from bootstrap_seed and the dataset)")
    p.add_argument("--out", required=True, type=Path, help="claims table (CSV) to write")
    p.add_argument("--alpha-star", type=Path, help="alpha* per seed and beta (CSV) to write")
    p.add_argument("--alpha-star-seeds", type=Path, help="alpha* per beta over seeds (CSV) to write")
    p.add_argument("--curves", type=Path, help="measured and fitted risk curves (CSV) to write")
    return p


def main() -> None:
    a = parser().parse_args()

    from rsmooth import claims, io

    errors = read_certs(a.certs)
    result = claims.analyze(errors, window=a.savgol_window, order=a.savgol_order, level=a.level,
                            n_boot=a.n_boot, rng_seed=a.rng_seed, delta=a.contrast_delta)
    table = result.claims
    for df, path in ((result.alpha_star, a.alpha_star), (result.alpha_star_seeds, a.alpha_star_seeds),
                     (result.curves, a.curves)):
        if path:
            io.write_csv(df.assign(dataset=a.dataset)[["dataset", *df.columns]], path)
    io.write_csv(table, a.out)
    print(result.alpha_star.to_string(index=False))
    print(table[["claim", "beta", "estimate", "low", "high", "verdict"]].to_string(index=False))


if __name__ == "__main__":
    cli.run(main)
