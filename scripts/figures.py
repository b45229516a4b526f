#!/usr/bin/env python
"""Draw one of the pipeline's figures as PNG and PDF.

  risk_curves  the paper's figure: risk vs alpha, one fitted line per beta, alpha* marked with
               its interval (curves.csv and alpha_star_seeds.csv of scripts/claims.py)
  heatmap      risk over the alpha x beta grid (risk.csv)
  certified    certified accuracy vs L2 radius for the given per-image CSVs
  alpha_star   alpha*(beta) against the diagonal with intervals, and per seed the C3 contrast
               and gap (alpha_star.csv and alpha_star_seeds.csv)
The figures draw these tables and compute nothing of their own.
"""
import argparse
import json

from rsmooth import cli


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("kind", choices=["risk_curves", "heatmap", "certified", "alpha_star"])
    p.add_argument("--risk", type=cli.existing_file, help="risk.csv (heatmap)")
    p.add_argument("--curves", type=cli.existing_file, help="curves.csv (risk_curves)")
    p.add_argument("--alpha-star", type=cli.existing_file, help="alpha_star.csv (alpha_star)")
    p.add_argument("--alpha-star-seeds", type=cli.existing_file,
                   help="alpha_star_seeds.csv (risk_curves, alpha_star)")
    p.add_argument("--certs", nargs="*", type=cli.existing_file, default=[], help="per-image CSVs (certified)")
    p.add_argument("--options", default="{}", help="JSON object of the figure's options")
    p.add_argument("--out", required=True, help="output path without extension (.png and .pdf)")
    a = p.parse_args()
    try:
        opts = json.loads(a.options)
    except json.JSONDecodeError as e:
        p.error(f"--options is not JSON: {e}")

    import pandas as pd

    from rsmooth import figures, io

    needs = {"heatmap": ["risk"], "risk_curves": ["curves", "alpha_star_seeds"],
             "alpha_star": ["alpha_star", "alpha_star_seeds"]}.get(a.kind, [])
    for name in needs:
        if getattr(a, name) is None:
            p.error(f"{a.kind} needs --{name.replace('_', '-')}")
    if a.kind == "risk_curves":
        fig = figures.risk_curves(pd.read_csv(a.curves), pd.read_csv(a.alpha_star_seeds), **opts)
    elif a.kind == "alpha_star":
        fig = figures.alpha_star_vs_beta(pd.read_csv(a.alpha_star), pd.read_csv(a.alpha_star_seeds))
    elif a.kind == "heatmap":
        fig = figures.risk_heatmap(pd.read_csv(a.risk), **opts)
    else:
        fig = figures.certified_accuracy([pd.read_csv(c) for c in a.certs], **opts)
    io.save_figure(fig, a.out)
    print(f"wrote {a.out}.png and {a.out}.pdf")


if __name__ == "__main__":
    cli.run(main)
