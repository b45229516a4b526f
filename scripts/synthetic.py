#!/usr/bin/env python
"""The synthetic disks experiment (Pal & Sulam, Section 5): sample images, compute exact risk
curves and aggregate them into the tables that Figures 3 and 4 and the regime heatmaps draw.

  sample     draw every image of a set in one job (the draw order couples them): an .npz
  curves     Delta(alpha, beta) and Delta(alpha, beta) - Delta(0, beta) for one beta: a CSV
  aggregate  one tidy CSV from the per-beta CSVs (Figure 4's set: with the smoothed mean curve),
             the mean of each cell with where noise helped, and the table of where noise helps
  examples   the disks of the paper's Figure 3 (one image per gap): a CSV
The math is in rsmooth/synthetic.py; the figures are drawn from these tables by scripts/figures.py
(figure4, synthetic_heatmap, figure3).
"""
import argparse
from pathlib import Path

from rsmooth import cli


def sampling_args(p):
    p.add_argument("--zetas", type=cli.nonneg_int, nargs="+", required=True, help="gaps")
    p.add_argument("--side", type=cli.positive_int, required=True, help="image side (pixels)")
    p.add_argument("--r", type=cli.positive_int, required=True, help="disk radius")
    p.add_argument("--tries", type=cli.positive_int, required=True, help="candidate centres per image")
    p.add_argument("--seed", type=cli.nonneg_int, required=True, help="seeds numpy's legacy generator once")
    p.add_argument("--wrap", action=argparse.BooleanOptionalAction, required=True,
                   help="negative pixel indices wrap to the far edge, as in the paper (--no-wrap clips)")


def sample(a):
    import numpy as np

    from rsmooth import io
    from rsmooth.synthetic import sample_disks

    groups = [(b, z) for b in a.betas for z in a.zetas] if a.betas else [(np.nan, z) for z in a.zetas]
    rng = np.random.RandomState(a.seed)
    images = np.zeros((len(groups), a.samples, a.side, a.side), dtype=np.uint8)
    for g, (_, zeta) in enumerate(groups):
        for s in range(a.samples):
            images[g, s] = sample_disks(rng, a.side, a.r, zeta, a.tries, a.wrap)[0]
    with io.atomic_path(a.out) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, images=images, group_beta=np.array([g[0] for g in groups], dtype=float),
                     group_zeta=np.array([g[1] for g in groups], dtype=float))
    print(f"{a.out}: {len(groups)} groups x {a.samples} images, mean class-1 share {images.mean():.3f}")


def curves(a):
    import numpy as np
    import pandas as pd

    from rsmooth import io
    from rsmooth.synthetic import risk_grid

    try:
        z = np.load(a.images)
        images, gb, gz = z["images"], z["group_beta"], z["group_zeta"]
    except Exception as e:
        raise ValueError(f"{a.images}: not an image set written by 'synthetic.py sample' ({e})") from None
    alphas = sorted(set(a.alphas) | {0.0})
    use = np.flatnonzero(np.isnan(gb) | np.isclose(gb, a.beta))
    if len(use) == 0:
        raise ValueError(f"{a.images}: no images drawn for beta = {a.beta:g}")
    rows = []
    for g in use:
        for s, h in enumerate(images[g]):
            d = risk_grid(h, alphas, [a.beta])[:, 0]
            rows += [{"beta": a.beta, "zeta": gz[g], "sample": s, "alpha": al, "delta": d[i],
                      "delta_rel": d[i] - d[0]} for i, al in enumerate(alphas) if al in a.alphas]
    io.write_csv(pd.DataFrame(rows), a.out)
    print(f"{a.out}: {len(rows)} rows")


def aggregate(a):
    import pandas as pd

    from rsmooth import io, synthetic

    df = synthetic.tidy(pd.concat([pd.read_csv(f) for f in a.curves]), a.window, a.order)
    means = synthetic.cell_means(df)
    io.write_csv(df, a.out)
    if a.means:
        io.write_csv(means, a.means)
    if a.helps:
        table = synthetic.helps_table(means)
        io.write_csv(table, a.helps)
        print(table.to_string(index=False))


def examples(a):
    from rsmooth import io, synthetic

    table = synthetic.examples(a.seed, a.side, a.r, a.zetas, a.tries, a.wrap)
    io.write_csv(table, a.out)
    print(f"{a.out}: {len(table)} disks in {len(a.zetas)} images")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample", help="draw every image of a set")
    sampling_args(s)
    s.add_argument("--betas", type=cli.nonneg_float, nargs="*", default=[],
                   help="draw a fresh set per (beta, zeta), beta outer (Figure 4); none: per zeta")
    s.add_argument("--samples", type=cli.positive_int, required=True, help="images per group")
    s.add_argument("--out", required=True, type=Path)
    s.set_defaults(fn=sample)
    c = sub.add_parser("curves", help="exact risk curves for one beta")
    c.add_argument("--images", required=True, type=cli.existing_file)
    c.add_argument("--beta", required=True, type=cli.nonneg_float)
    c.add_argument("--alphas", required=True, type=cli.nonneg_float, nargs="+")
    c.add_argument("--out", required=True, type=Path)
    c.set_defaults(fn=curves)
    g = sub.add_parser("aggregate", help="one tidy CSV (+ the cell means, where noise helps)")
    g.add_argument("--curves", required=True, nargs="+", type=cli.existing_file)
    g.add_argument("--means", type=Path, help="also write the mean of each cell and whether noise helped there")
    g.add_argument("--helps", type=Path, help="also write the per-gap table of helped cells")
    g.add_argument("--window", type=cli.positive_int, help="Savitzky-Golay window of the smoothed "
                   "mean curve (column smoothed_delta_rel, Figure 4); none: no such column")
    g.add_argument("--order", type=cli.nonneg_int, default=None, help="Savitzky-Golay order")
    g.add_argument("--out", required=True, type=Path)
    g.set_defaults(fn=aggregate)
    f3 = sub.add_parser("examples", help="the disks of the paper's Figure 3")
    sampling_args(f3)
    f3.add_argument("--out", required=True, type=Path)
    f3.set_defaults(fn=examples)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    cli.run(main)
