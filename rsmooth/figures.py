"""The pipeline's figures. Each function takes tables and options and returns a matplotlib
figure; ``rsmooth.io.save_figure`` writes it as PNG and PDF. The tables are the stages' outputs
as scripts/figures.py reads them: every number drawn (risks and their means over seeds,
certified accuracy, alpha*, the claims, the verdicts, the synthetic means and where noise
helped) was computed and written by the stage before; a figure only lays them out."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def risk_curves(curves: pd.DataFrame, spread: pd.DataFrame, log_y: bool = True,
                title: str = "") -> plt.Figure:
    """The paper's figure: risk Delta(alpha, beta) against alpha, one fitted line per beta,
    measured points behind it, alpha* marked with the extent of its confidence set, legend
    "beta = ..., alpha* = ... in {set}". Draws the tables of :func:`rsmooth.claims.analyze`:
    ``curves`` (measured and fitted risk per seed; the fit never goes below 0 nor below the
    smallest measurement) and ``spread`` (alpha* per beta: of the mean curve, with its set). With several seeds: the
    mean curve and a band of +- one standard deviation of the per-seed fitted curves."""
    seeds = sorted(curves["seed"].unique())
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    colors = sns.color_palette("viridis", curves["beta"].nunique())
    floor = 0.5 / curves["n_images"].max()  # a zero risk is drawn at half an error on a log axis
    for color, (beta, g) in zip(colors, curves.groupby("beta")):
        fits = g.pivot(index="alpha", columns="seed", values="risk_fitted").sort_index()
        a, mean = fits.index.to_numpy(), fits.mean(axis=1).to_numpy()
        st = spread[spread["beta"] == beta].iloc[0]
        star, lo, hi = st["alpha_star_of_mean_curve"], st["alpha_star_low"], st["alpha_star_high"]
        members = ", ".join(f"{v:g}" for v in _members(st["alpha_star_set"]))
        label = f"beta = {beta:g}, alpha* = {star:g} in {{{members}}}"
        if len(seeds) > 1:
            sd = fits.std(axis=1, ddof=1).to_numpy()
            ax.fill_between(a, np.maximum(mean - sd, floor), np.maximum(mean + sd, floor), color=color, alpha=0.2)
        measured = g.groupby("alpha")["risk"].mean().sort_index()
        ax.plot(measured.index, np.maximum(measured, floor), ".", color=color, alpha=0.3)
        ax.plot(a, np.maximum(mean, floor), "-", color=color, label=label)
        y = max(float(np.interp(star, a, mean)), floor)
        ax.errorbar([star], [y], xerr=[[max(star - lo, 0)], [max(hi - star, 0)]], fmt="o", color=color,
                    markeredgecolor="black", capsize=3)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("training noise alpha")
    ax.set_ylabel("risk of the smoothed classifier (test error)")
    what = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean of {len(seeds)} seeds, band +- 1 sd"
    methods = "/".join(sorted(curves["curve_method"].unique()))
    ax.set_title(title or f"risk vs alpha ({what}; dots: measured, lines: {methods} fit; "
                          f"bars: extent of the alpha* confidence set)", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3, which="both")
    return fig


def _members(text) -> list[float]:
    """The alphas of an ``alpha_star_set`` cell (space-separated; a one-member set may have been
    read back as a number)."""
    return [float(v) for v in str(text).split()]


def alpha_star_vs_beta(star: pd.DataFrame, spread: pd.DataFrame) -> plt.Figure:
    """Left: alpha*(beta) against the diagonal alpha = beta, per seed with its confidence set
    (conditional on the seed's models) and, with several seeds, alpha* of the mean curve with
    the set over seeds: a vertical line spans a set, a small mark shows each member (a set
    need not be an interval). Right: per seed, the fixed contrast risk(alpha = beta) -
    risk(alpha = beta - delta) and the cross-fitted gap risk(alpha = beta) - risk(alpha*), each
    with its within-seed interval (> 0: alpha = beta is beaten). Draws the tables of
    :func:`rsmooth.claims.analyze` (alpha_star.csv, alpha_star_seeds.csv), nothing else."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    top = max(star["beta"].max(), star["alpha_star_high"].max()) * 1.05 or 1.0
    ax1.plot([0, top], [0, top], "--", color="grey", label="alpha = beta")
    n = star["seed"].nunique()

    def draw_sets(x, rows, color, marker, label):
        ax1.vlines(x, rows["alpha_star_low"], rows["alpha_star_high"], color=color, lw=1, alpha=0.7)
        for xi, members in zip(x, rows["alpha_star_set"]):
            ys = _members(members)
            ax1.plot([xi] * len(ys), ys, "_", color=color, ms=6)
        ax1.plot(x, rows["alpha_star"], marker, color=color, label=label)

    for k, (seed, s) in enumerate(star.groupby("seed")):
        x = s["beta"] + 0.006 * (k - (n - 1) / 2)
        draw_sets(x, s, "C0", ".", "alpha* per seed (line: its confidence set)" if k == 0 else None)
    if n > 1:
        x = spread["beta"].to_numpy() + 0.006 * (n + 1) / 2
        draw_sets(x, spread.assign(alpha_star=spread["alpha_star_of_mean_curve"]), "C3", "o",
                  f"alpha* of the mean curve, set over {n} seeds")
    ax1.set_xlabel("smoothing noise beta")
    ax1.set_ylabel("best training noise alpha*")
    ax1.set_title("alpha*(beta) and its confidence sets")
    ax1.legend(fontsize=8)
    for name, marker, shift in (("contrast", "o", -0.006), ("gap", "s", 0.006)):
        rows = star[star[name].notna()]
        for k, (seed, s) in enumerate(rows.groupby("seed")):
            x = s["beta"] + shift + 0.003 * (k - (n - 1) / 2)
            ax2.errorbar(x, s[name], yerr=[s[name] - s[f"{name}_low"], s[f"{name}_high"] - s[name]],
                         fmt=marker, color="C1" if name == "contrast" else "C2", capsize=3, alpha=0.8,
                         label=(f"contrast vs alpha = beta - {s['beta'].iloc[0] - s['contrast_alpha'].iloc[0]:g}"
                                if name == "contrast" else "cross-fitted gap vs alpha*") if k == 0 else None)
    ax2.axhline(0, color="grey", lw=0.8)
    ax2.set_xlabel("smoothing noise beta")
    ax2.set_ylabel("risk(alpha = beta) - risk(other alpha)")
    ax2.set_title("what alpha = beta costs, per seed (within-seed 95% intervals)", fontsize=9)
    if ax2.get_legend_handles_labels()[0]:
        ax2.legend(fontsize=8)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def risk_heatmap(means: pd.DataFrame, seeds, annotate: bool = True, cmap: str = "mako_r") -> plt.Figure:
    """Risk over the alpha x beta grid (rows: beta, columns: alpha): ``risk_mean`` of
    risk_seeds.csv (``means``, the mean over the run's ``seeds``), the diagonal alpha = beta
    outlined."""
    seeds = sorted(seeds)
    grid = means.pivot(index="beta", columns="alpha", values="risk_mean")
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * grid.shape[1] + 2), max(3, 0.45 * grid.shape[0] + 1.5)))
    sns.heatmap(grid, ax=ax, cmap=cmap, annot=annotate and grid.size <= 400, fmt=".2f",
                annot_kws={"fontsize": 6}, cbar_kws={"label": "risk"},
                xticklabels=[f"{v:g}" for v in grid.columns], yticklabels=[f"{v:g}" for v in grid.index])
    for i, b in enumerate(grid.index):
        j = np.flatnonzero(np.isclose(grid.columns.to_numpy(float), b))
        if len(j):
            ax.add_patch(plt.Rectangle((j[0], i), 1, 1, fill=False, edgecolor="red", lw=1.5))
    ax.set_xlabel("training noise alpha")
    ax.set_ylabel("smoothing noise beta")
    which = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean of {len(seeds)} seeds"
    ax.set_title(f"risk Delta(alpha, beta), {which} (red: alpha = beta)")
    return fig


def certified_accuracy(curves: pd.DataFrame, seed: int, max_radius: float | None = None) -> plt.Figure:
    """Certified accuracy against L2 radius for the (alpha, beta) pairs that drew radii, in
    ``seed``: the fraction of test images whose smoothed prediction is right and certified at
    radius >= r. Draws certified.csv (``curves``: rsmooth.analysis.certified_curve, the exact
    step function), read off at 200 radii from 0 to ``max_radius`` (or just past the largest)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for (a, b), g in curves[curves["seed"] == seed].groupby(["alpha", "beta"], sort=False):
        rad, acc = g["radius"].to_numpy(float), g["cert_acc"].to_numpy(float)
        top = max_radius or max(float(rad[-1]), 1e-3) * 1.05
        rs = np.linspace(0, top, 200)
        step = np.searchsorted(rad, rs)  # the first row at a radius >= r; past the last row: 0
        ax.plot(rs, np.where(step < len(rad), acc[np.minimum(step, len(rad) - 1)], 0.0),
                label=f"alpha = {a:g}, beta = {b:g}")
    ax.set_xlabel("L2 radius")
    ax.set_ylabel("certified accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("certified accuracy (Cohen et al. CERTIFY)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def synthetic_curves(mean: pd.DataFrame) -> plt.Figure:
    """The paper's Figure 4: per beta a panel, per gap zeta a line of the mean
    Delta(alpha, beta) - Delta(0, beta) over alpha, Savitzky-Golay-smoothed and re-based to 0
    at alpha = 0 (column ``smoothed_delta_rel`` of the figure4 set's cell means,
    rsmooth.synthetic.cell_means); dashed where noise augmentation helped at some alpha (its
    ``helped`` column)."""
    betas = sorted(mean["beta"].unique())
    fig, axes = plt.subplots(1, len(betas), figsize=(4.2 * len(betas), 3.6), squeeze=False)
    colors = sns.color_palette("tab10")
    for ax, beta in zip(axes[0], betas):
        for k, (zeta, g) in enumerate(mean[mean["beta"] == beta].groupby("zeta")):
            g = g.sort_values("alpha")
            helped = bool(g["helped"].any())
            ax.plot(g["alpha"], g["smoothed_delta_rel"], "--" if helped else "-", color=colors[k % 10],
                    label=f"zeta = {zeta:g}" + (" (helps)" if helped else ""))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(f"beta = {beta:g}")
        ax.set_xlabel("alpha")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("Delta(alpha, beta) - Delta(0, beta)")
    fig.tight_layout()
    return fig


def synthetic_examples(disks: pd.DataFrame) -> plt.Figure:
    """The paper's Figure 3: example distributions, the disks drawn as circles, one panel per gap
    in the table's order (``disks``: rsmooth.synthetic.examples, a row per disk)."""
    images = list(disks.groupby("zeta", sort=False))
    fig, axes = plt.subplots(1, len(images), figsize=(3.2 * len(images), 3.4), squeeze=False)
    for ax, (zeta, centres) in zip(axes[0], images):
        side, r = centres["side"].iloc[0], centres["r"].iloc[0]
        for cx, cy in zip(centres["cx"], centres["cy"]):
            ax.add_patch(plt.Circle((cy, cx), r, fill=True, facecolor="#4C72B0", edgecolor="black", lw=0.5))
        ax.set_xlim(0, side)
        ax.set_ylim(side, 0)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"zeta = {zeta:g} ({len(centres)} disks)")
    fig.tight_layout()
    return fig


def synthetic_heatmaps(means: pd.DataFrame, cmap: str = "RdBu_r") -> plt.Figure:
    """Per gap zeta, the mean Delta(alpha, beta) - Delta(0, beta) over the alpha x beta grid
    (``mean_delta_rel`` of the set's cell means, rsmooth.synthetic.cell_means): blue where noise
    augmentation helped, red where it hurt."""
    zetas = sorted(means["zeta"].unique())
    # Centred at 0 with separate limits on each side, so small gains are as visible as losses.
    from matplotlib.colors import TwoSlopeNorm

    norm = TwoSlopeNorm(vcenter=0.0, vmin=min(float(means["mean_delta_rel"].min()), -1e-6),
                        vmax=max(float(means["mean_delta_rel"].max()), 1e-6))
    fig, axes = plt.subplots(1, len(zetas), figsize=(4.4 * len(zetas), 3.8), squeeze=False)
    for ax, zeta in zip(axes[0], zetas):
        grid = means[means["zeta"] == zeta].pivot(index="beta", columns="alpha", values="mean_delta_rel")
        sns.heatmap(grid, ax=ax, cmap=cmap, norm=norm, cbar=ax is axes[0][-1],
                    xticklabels=[f"{v:g}" for v in grid.columns], yticklabels=[f"{v:g}" for v in grid.index])
        ax.invert_yaxis()
        ax.set_title(f"zeta = {zeta:g}")
        ax.set_xlabel("alpha")
        ax.set_ylabel("beta")
    fig.suptitle("mean Delta(alpha, beta) - Delta(0, beta) (blue: noise augmentation helps; "
                 "the colour scale differs on each side of 0)")
    fig.tight_layout()
    return fig


def claims_figure(claims: pd.DataFrame, title: str = "") -> Figure:
    """A forest plot: one row per (claim, beta), the estimate and its interval, a line at 0;
    one panel per claim (their statistics have different units). Marker and colour show the
    verdict; hollow markers are verdicts conditional on the trained models (one seed). Draws
    only the table's numbers (no curves); rows without an estimate say so in text."""
    from .claims import CONDITIONAL, CONTRADICTED, SUPPORTED, UNDECIDED

    style = {SUPPORTED: ("o", "tab:green"), CONTRADICTED: ("s", "tab:red"), UNDECIDED: ("D", "tab:gray")}
    claims = claims.reset_index(drop=True)
    groups = [(c, g) for c, g in claims.groupby("claim", sort=True)]
    fig = Figure(figsize=(6.4, 1.4 + 0.45 * len(claims) + 0.5 * len(groups)), layout="constrained")
    axes = fig.subplots(max(len(groups), 1), 1, squeeze=False,
                        gridspec_kw={"height_ratios": [len(g) + 0.6 for _, g in groups] or [1]})[:, 0]
    seen = {}
    for ax, (claim, g) in zip(axes, groups):
        y = np.arange(len(g))[::-1]
        for yi, row in zip(y, g.itertuples()):
            word = row.verdict.replace(CONDITIONAL, "")
            marker, color = style.get(word, style[UNDECIDED])
            hollow = row.verdict.endswith(CONDITIONAL)
            if not np.isfinite(row.estimate):
                ax.text(0, yi, "  no estimate", va="center", fontsize=8, color="tab:gray")
                continue
            ax.plot([row.low, row.high], [yi, yi], "-", color=color, lw=2)
            h, = ax.plot([row.estimate], [yi], marker, color=color, ms=7,
                         mfc="white" if hollow else color, ls="none")
            seen.setdefault(row.verdict, h)
        ax.axvline(0, color="black", lw=0.8)
        if not np.isfinite(g["estimate"]).any():
            ax.set_xlim(-1, 1)
        ax.set_yticks(y, [f"{claim}" if not np.isfinite(b) else f"{claim}, beta = {b:g}" for b in g["beta"]])
        ax.set_ylim(-0.7, len(g) - 0.3)
        ax.set_xlabel(g["statistic"].iloc[0], fontsize=9)
    if seen:
        fig.legend(seen.values(), seen.keys(), fontsize=8, loc="outside lower center", ncols=min(len(seen), 3))
    level = claims["level"].iloc[0] if len(claims) else 0.95
    fig.suptitle(f"{title + ': ' if title else ''}claims C1-C3, estimates and {level:.0%} intervals")
    return fig


# How paper_comparison marks the agrees column of paper_comparison.csv: (marker, filled).
AGREES_STYLE = {"yes": ("o", True), "undecided": ("o", False), "no": ("s", True)}


def _agrees_marks(ax, x, y, agrees, color, size: float) -> None:
    """Mark points by their ``agrees`` verdict (:data:`AGREES_STYLE`; others: nothing)."""
    for verdict, (marker, filled) in AGREES_STYLE.items():
        k = np.asarray(agrees) == verdict
        ax.plot(np.asarray(x)[k], np.asarray(y)[k], marker, ls="none", color=color, mec="black", ms=size,
                mfc=color if filled else "white", zorder=3)


def _agrees_legend(ax) -> None:
    """Legend entries (no data) for the marks of :func:`_agrees_marks`."""
    for (marker, filled), word in zip(AGREES_STYLE.values(), ("agrees", "undecided", "disagrees")):
        ax.plot([], [], marker, ls="none", color="grey", mec="black", mfc="grey" if filled else "white",
                label=f"verdict: {word}")


def _agrees_count(rows: pd.DataFrame) -> str:
    n = rows["agrees"].value_counts()
    return ", ".join(f"{n.get(v, 0)} {word}" for v, word in (("yes", "agree"), ("no", "disagree"),
                                                            ("undecided", "undecided")))


def paper_comparison(comparison: pd.DataFrame, risk: pd.DataFrame, means: pd.DataFrame,
                     reference: pd.DataFrame, title: str = "") -> plt.Figure:
    """This pipeline beside the paper (rsmooth/reference.py). Left: risk against alpha at each
    beta both have, the paper's measured risks dashed, ours solid (``risk_mean`` of
    risk_seeds.csv, ``means``) with a band of the Clopper-Pearson intervals of risk.csv (several
    seeds: spanning every seed's interval); each compared cell marked by its ``agrees`` verdict
    (filled circle: the ratio ours / paper shown inside the tolerance, square: outside, hollow
    circle: undecided); alpha* of
    each side marked. Right: alpha*(beta) of both against the diagonal (the paper's
    Savitzky-Golay and raw argmin, ours per seed with the extent of its confidence set, marked
    by whether the paper's alpha* lies in it). Draws only the values of paper_comparison.csv,
    risk.csv, risk_seeds.csv and the reference table; the verdicts are the comparison's."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.6))
    cells = comparison[comparison["quantity"] == "risk"]
    pairs = cells[["beta", "beta_paper"]].drop_duplicates().sort_values("beta").to_numpy()
    colors = sns.color_palette("viridis", max(len(pairs), 1))
    floor = 0.5 / max(risk["n_test"].max(), comparison["paper_images"].max())
    for color, (beta, bp) in zip(colors, pairs):
        theirs = reference[reference["beta"] == bp].sort_values("alpha")
        ax1.plot(theirs["alpha"], np.maximum(theirs["risk"], floor), "--", color=color, lw=1,
                 label=f"paper, beta = {bp:g}")
        g = risk[risk["beta"] == beta].groupby("alpha")
        ax1.fill_between(g["risk_low"].min().index, np.maximum(g["risk_low"].min(), floor),
                         np.maximum(g["risk_high"].max(), floor), color=color, alpha=0.2)
        m = means[means["beta"] == beta].sort_values("alpha")
        ax1.plot(m["alpha"], np.maximum(m["risk_mean"], floor), ".-", color=color, ms=3,
                 label=f"ours, beta = {beta:g}")
        c = cells[cells["beta"] == beta]
        _agrees_marks(ax1, c["alpha_ours"], np.maximum(c["ours"], floor), c["agrees"].fillna(""), color, 6)
        star = comparison[(comparison["quantity"] == "risk_alpha_star") & (comparison["beta"] == beta)]
        ax1.plot(star["alpha_paper"].iloc[:1], np.maximum(star["paper"].iloc[:1], floor), "X", color=color,
                 mec="black", ms=8)
        ax1.plot(star["alpha_ours"], np.maximum(star["ours"], floor), "*", color=color, mec="black", ms=10)
    if not len(pairs):
        ax1.text(0.5, 0.5, "no (alpha, beta) of ours on the paper's grid", ha="center", transform=ax1.transAxes)
    ax1.set_yscale("log")
    ax1.set_xlabel("training noise alpha")
    ax1.set_ylabel("risk of the smoothed classifier")
    band = (f"[{comparison['fidelity_low'].iloc[0]:g}, {comparison['fidelity_high'].iloc[0]:g}]"
            if len(comparison) else "")
    ax1.set_title(f"risk vs alpha (band: CP; *: our alpha*, X: the paper's)\nratio ours / paper in {band}: "
                  f"{_agrees_count(cells)}", fontsize=9)
    _agrees_legend(ax1)
    ax1.legend(fontsize=7, ncols=2)
    stars = comparison[comparison["quantity"] == "alpha_star"]
    raw = comparison[comparison["quantity"] == "alpha_star_raw"]
    paper = stars.dropna(subset=["paper"]).drop_duplicates("beta_paper").sort_values("beta_paper")
    top = max(np.nanmax(stars[["beta", "ours", "paper"]].to_numpy(float)), 0.1) * 1.05
    ax2.plot([0, top], [0, top], ":", color="grey", label="alpha = beta")
    ax2.plot(paper["beta_paper"], paper["paper"], "x--", color="C3", label="paper: Savitzky-Golay (15, 3)")
    p_raw = raw.dropna(subset=["paper"]).drop_duplicates("beta_paper")
    ax2.plot(p_raw["beta_paper"], p_raw["paper"], "+", color="C3", ms=9, label="paper: raw argmin")
    mine = stars.dropna(subset=["ours"]).assign(agrees=lambda d: d["agrees"].fillna(""))
    x = mine["beta"] + 0.006 * (mine["seed"].rank(method="dense") - 1).to_numpy(float)  # seeds side by side
    ax2.vlines(x, mine["ours_low"], mine["ours_high"], color="C0", lw=1)
    ax2.plot(x[mine["agrees"] == ""], mine.loc[mine["agrees"] == "", "ours"], "o", color="C0", alpha=0.5)
    _agrees_marks(ax2, x, mine["ours"], mine["agrees"], "C0", 6)
    ax2.plot([], [], "o", color="C0", mec="black", label="ours, per seed (line: extent of its confidence set)")
    _agrees_legend(ax2)
    ax2.set_xlabel("smoothing noise beta")
    ax2.set_ylabel("best training noise alpha*")
    ax2.set_title(f"alpha*(beta); the paper's in our set's span: {_agrees_count(mine)}", fontsize=9)
    ax2.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3, which="both")
    fig.suptitle(title or "this pipeline beside the paper's published table", fontsize=10)
    fig.tight_layout()
    return fig
