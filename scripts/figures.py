#!/usr/bin/env python
"""Draw one of the pipeline's figures as PNG and PDF, from the tables the stages wrote.

  risk_curves        the paper's figure: risk vs alpha, one fitted line per beta, alpha* marked
                     with its interval (curves.csv and alpha_star_seeds.csv of scripts/claims.py)
  heatmap            risk over the alpha x beta grid (the means of risk_seeds.csv; risk.csv: seeds)
  certified          certified accuracy vs L2 radius in one seed (certified.csv of scripts/aggregate.py)
  alpha_star         alpha*(beta) against the diagonal with intervals, and per seed the C3 contrast
                     and gap (alpha_star.csv and alpha_star_seeds.csv)
  claims             the claims' forest plot (claims.csv of scripts/claims.py)
  paper_comparison   this pipeline beside the paper's table (paper_comparison.csv of
                     scripts/compare.py, risk.csv, risk_seeds.csv and the reference table)
  figure4            the paper's Figure 4 (the figure4 set's cell means, scripts/synthetic.py aggregate)
  synthetic_heatmap  where noise helps over alpha x beta (the heatmap set's cell means)
  figure3            the paper's Figure 3 (the disks of scripts/synthetic.py examples)
The figures draw these tables and compute nothing of their own; the analysis jobs draw nothing,
so editing figure code reruns figure jobs only.
"""
import argparse
import json
from pathlib import Path

from rsmooth import cli

# The tables each figure draws (options of this script).
NEEDS = {
    "risk_curves": ["curves", "alpha_star_seeds"],
    "heatmap": ["risk", "risk_seeds"],
    "certified": ["certified", "seed"],
    "alpha_star": ["alpha_star", "alpha_star_seeds"],
    "claims": ["claims"],
    "paper_comparison": ["comparison", "risk", "risk_seeds", "reference"],
    "figure4": ["synthetic"],
    "synthetic_heatmap": ["synthetic"],
    "figure3": ["disks"],
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("kind", choices=list(NEEDS))
    p.add_argument("--risk", type=cli.existing_file, help="risk.csv (heatmap, paper_comparison)")
    p.add_argument("--risk-seeds", type=cli.existing_file, help="risk_seeds.csv (heatmap, paper_comparison)")
    p.add_argument("--curves", type=cli.existing_file, help="curves.csv (risk_curves)")
    p.add_argument("--alpha-star", type=cli.existing_file, help="alpha_star.csv (alpha_star)")
    p.add_argument("--alpha-star-seeds", type=cli.existing_file,
                   help="alpha_star_seeds.csv (risk_curves, alpha_star)")
    p.add_argument("--certified", type=cli.existing_file, help="certified.csv (certified)")
    p.add_argument("--seed", type=cli.nonneg_int, help="the seed whose certified accuracy is drawn (certified)")
    p.add_argument("--claims", type=cli.existing_file, help="claims.csv (claims)")
    p.add_argument("--comparison", type=cli.existing_file, help="paper_comparison.csv (paper_comparison)")
    p.add_argument("--reference", type=Path,
                   help="the reference table that paper_comparison.csv compares with (paper_comparison)")
    p.add_argument("--reference-dir", type=Path,
                   help="the folder a relative --reference is read from (the rule gives reference/)")
    p.add_argument("--synthetic", type=cli.existing_file,
                   help="a synthetic set's cell means, SET_means.csv (figure4, synthetic_heatmap)")
    p.add_argument("--disks", type=cli.existing_file, help="figure3.csv, the disks of Figure 3 (figure3)")
    p.add_argument("--dataset", default="", help="dataset name, for the title (claims, paper_comparison)")
    p.add_argument("--options", default="{}", help="JSON object of the figure's options")
    p.add_argument("--out", required=True, help="output path without extension (.png and .pdf)")
    a = p.parse_args()
    try:
        opts = json.loads(a.options)
    except json.JSONDecodeError as e:
        p.error(f"--options is not JSON: {e}")
    for name in NEEDS[a.kind]:
        if getattr(a, name) is None:
            p.error(f"{a.kind} needs --{name.replace('_', '-')}")
    if a.reference is not None and a.reference_dir is not None:
        a.reference = a.reference_dir / a.reference
    if a.kind == "paper_comparison" and not a.reference.is_file():
        p.error(f"no such file: {a.reference}")

    import pandas as pd

    from rsmooth import figures, io

    read = pd.read_csv
    if a.kind == "risk_curves":
        fig = figures.risk_curves(read(a.curves), read(a.alpha_star_seeds), **opts)
    elif a.kind == "alpha_star":
        fig = figures.alpha_star_vs_beta(read(a.alpha_star), read(a.alpha_star_seeds))
    elif a.kind == "heatmap":
        fig = figures.risk_heatmap(read(a.risk_seeds), read(a.risk)["seed"].unique(), **opts)
    elif a.kind == "certified":
        fig = figures.certified_accuracy(read(a.certified), a.seed, **opts)
    elif a.kind == "claims":
        fig = figures.claims_figure(read(a.claims), a.dataset)
    elif a.kind == "paper_comparison":
        from rsmooth import reference

        ref, _ = reference.load_reference(a.reference)
        fig = figures.paper_comparison(read(a.comparison), read(a.risk), read(a.risk_seeds), ref,
                                       f"{a.dataset}: this pipeline beside {a.reference.name}")
    elif a.kind == "figure4":
        fig = figures.synthetic_curves(read(a.synthetic))
    elif a.kind == "synthetic_heatmap":
        fig = figures.synthetic_heatmaps(read(a.synthetic))
    else:
        fig = figures.synthetic_examples(read(a.disks))
    io.save_figure(fig, a.out)
    print(f"wrote {a.out}.png and {a.out}.pdf")


if __name__ == "__main__":
    cli.run(main)
