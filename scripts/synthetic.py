#!/usr/bin/env python
"""The synthetic disks experiment (Pal & Sulam, Section 5): sample images, compute exact risk
curves, aggregate them, and draw Figures 3 and 4 and the regime heatmaps.

  sample     draw every image of a set in one job (the draw order couples them): an .npz
  curves     Delta(alpha, beta) and Delta(alpha, beta) - Delta(0, beta) for one beta: a CSV
  aggregate  one tidy CSV from the per-beta CSVs (Figure 4's set: with the smoothed mean curve),
             and the table of where noise helps
  figure4    the paper's Figure 4 from the tidy CSV
  figure3    the paper's Figure 3: example distributions for a few gaps
  heatmap    mean Delta(alpha, beta) - Delta(0, beta) over alpha x beta, one panel per gap
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

    from rsmooth import io

    df = pd.concat([pd.read_csv(f) for f in a.curves]).sort_values(["beta", "zeta", "sample", "alpha"])
    df["mean_delta_rel"] = df.groupby(["beta", "zeta", "alpha"])["delta_rel"].transform("mean")
    if a.window:  # Figure 4's line: the mean curve smoothed (the one curve policy) and re-based
        from rsmooth.curves import savgol

        mean = df.groupby(["beta", "zeta", "alpha"], as_index=False)["mean_delta_rel"].first()
        for _, g in mean.groupby(["beta", "zeta"]):
            sm = savgol(g["mean_delta_rel"].to_numpy(), a.window, a.order)
            mean.loc[g.index, "smoothed_delta_rel"] = sm - sm[0]
        df = df.merge(mean.drop(columns="mean_delta_rel"), on=["beta", "zeta", "alpha"], how="left")
    io.write_csv(df, a.out)
    if a.helps:
        mean = df[df["alpha"] > 0].groupby(["zeta", "beta", "alpha"], as_index=False)["delta_rel"].mean()
        table = mean.groupby("zeta").agg(cells=("delta_rel", "size"),
                                         cells_helped=("delta_rel", lambda v: int((v < 0).sum())),
                                         best_mean_delta_rel=("delta_rel", "min")).reset_index()
        table.insert(3, "fraction_helped", table["cells_helped"] / table["cells"])
        io.write_csv(table, a.helps)
        print(table.to_string(index=False))


def draw(a):
    import numpy as np
    import pandas as pd

    from rsmooth import figures, io
    from rsmooth.synthetic import sample_disks

    if a.command == "figure4":
        fig = figures.synthetic_curves(pd.read_csv(a.curves))
    elif a.command == "heatmap":
        fig = figures.synthetic_heatmaps(pd.read_csv(a.curves))
    else:
        rng = np.random.RandomState(a.seed)
        examples = [(z, *sample_disks(rng, a.side, a.r, z, a.tries, a.wrap)) for z in a.zetas]
        fig = figures.synthetic_examples(examples, a.r)
    io.save_figure(fig, a.out)
    print(f"wrote {a.out}.png and {a.out}.pdf")


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
    g = sub.add_parser("aggregate", help="one tidy CSV (+ where noise helps)")
    g.add_argument("--curves", required=True, nargs="+", type=cli.existing_file)
    g.add_argument("--helps", type=Path, help="also write the per-gap table of helped cells")
    g.add_argument("--window", type=cli.positive_int, help="Savitzky-Golay window of the smoothed "
                   "mean curve (column smoothed_delta_rel, Figure 4); none: no such column")
    g.add_argument("--order", type=cli.nonneg_int, default=None, help="Savitzky-Golay order")
    g.add_argument("--out", required=True, type=Path)
    g.set_defaults(fn=aggregate)
    f4 = sub.add_parser("figure4", help="the paper's Figure 4")
    f4.add_argument("--curves", required=True, type=cli.existing_file,
                    help="the figure4 set's tidy CSV (with smoothed_delta_rel)")
    f4.add_argument("--out", required=True)
    f4.set_defaults(fn=draw)
    hm = sub.add_parser("heatmap", help="regime heatmaps")
    hm.add_argument("--curves", required=True, type=cli.existing_file)
    hm.add_argument("--out", required=True)
    hm.set_defaults(fn=draw)
    f3 = sub.add_parser("figure3", help="the paper's Figure 3")
    sampling_args(f3)
    f3.add_argument("--out", required=True)
    f3.set_defaults(fn=draw)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    cli.run(main)
