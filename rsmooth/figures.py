"""The pipeline's figures. Each function takes tables and options and returns a matplotlib
figure; ``rsmooth.io.save_figure`` writes it as PNG and PDF."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .analysis import alpha_star, smooth_curve  # noqa: E402


def risk_curves(risk: pd.DataFrame, window: int = 15, order: int = 3, log_y: bool = True,
                title: str = "", seed: int | None = None) -> plt.Figure:
    """The paper's figure: risk Delta(alpha, beta) against alpha, one smoothed line per beta
    (measured points faint behind it), alpha* marked, legend "beta = ..., alpha* = ..."."""
    seed = risk["seed"].min() if seed is None else seed
    r = risk[risk["seed"] == seed]
    star = alpha_star(r, window, order).set_index("beta")
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    colors = sns.color_palette("viridis", r["beta"].nunique())
    floor = 0.5 / r["n_test"].max()  # a zero risk is drawn at half an error on a log axis
    for color, (beta, g) in zip(colors, r.groupby("beta")):
        g = g.sort_values("alpha")
        a = g["alpha"].to_numpy()
        sm = np.maximum(smooth_curve(g["risk"].to_numpy(), window, order), floor)
        s = star.loc[beta]
        ax.plot(a, np.maximum(g["risk"], floor), ".", color=color, alpha=0.3)
        ax.plot(a, sm, "-", color=color, label=f"beta = {beta:g}, alpha* = {s['alpha_star']:g}")
        ax.plot([s["alpha_star"]], [max(s["risk_smoothed_at_star"], floor)], "o", color=color,
                markeredgecolor="black")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("training noise alpha")
    ax.set_ylabel("risk of the smoothed classifier (test error)")
    ax.set_title(title or f"risk vs alpha (seed {seed}; dots: measured, lines: Savitzky-Golay)")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3, which="both")
    return fig


def risk_heatmap(risk: pd.DataFrame, annotate: bool = True, cmap: str = "mako_r",
                 seed: int | None = None) -> plt.Figure:
    """Risk over the alpha x beta grid (rows: beta, columns: alpha), the diagonal outlined."""
    seed = risk["seed"].min() if seed is None else seed
    grid = risk[risk["seed"] == seed].pivot(index="beta", columns="alpha", values="risk")
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
    ax.set_title(f"risk Delta(alpha, beta), seed {seed} (red: alpha = beta)")
    return fig


def certified_accuracy(per_image: list[pd.DataFrame], max_radius: float | None = None) -> plt.Figure:
    """Certified accuracy against L2 radius for a few (alpha, beta) pairs: the fraction of test
    images whose smoothed prediction is right and certified at radius >= r."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for df in per_image:
        rad = df["radius"].to_numpy(float)
        ok = df["correct"].astype(bool).to_numpy() & ~np.isnan(rad)
        top = max_radius or max(float(np.nanmax(np.where(ok, rad, 0))), 1e-3) * 1.05
        rs = np.linspace(0, top, 200)
        acc = [(ok & (rad >= r)).mean() for r in rs]
        a, b = df["alpha"].iloc[0], df["beta"].iloc[0]
        ax.plot(rs, acc, label=f"alpha = {a:g}, beta = {b:g}")
    ax.set_xlabel("L2 radius")
    ax.set_ylabel("certified accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("certified accuracy (Cohen et al. CERTIFY)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def synthetic_curves(df: pd.DataFrame, window: int = 5, order: int = 3) -> plt.Figure:
    """The paper's Figure 4: per beta a panel, per gap zeta a line of the mean
    Delta(alpha, beta) - Delta(0, beta) over alpha, Savitzky-Golay-smoothed and re-based to 0
    at alpha = 0; dashed where the unsmoothed mean goes below 0 (noise augmentation helped)."""
    mean = df.groupby(["beta", "zeta", "alpha"], as_index=False)["delta_rel"].mean()
    betas = sorted(mean["beta"].unique())
    fig, axes = plt.subplots(1, len(betas), figsize=(4.2 * len(betas), 3.6), squeeze=False)
    colors = sns.color_palette("tab10")
    for ax, beta in zip(axes[0], betas):
        for k, (zeta, g) in enumerate(mean[mean["beta"] == beta].groupby("zeta")):
            g = g.sort_values("alpha")
            y = g["delta_rel"].to_numpy()
            sm = smooth_curve(y, window, order)
            sm = sm - sm[0]
            helped = bool((y < 0).any())
            ax.plot(g["alpha"], sm, "--" if helped else "-", color=colors[k % 10],
                    label=f"zeta = {zeta:g}" + (" (helps)" if helped else ""))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(f"beta = {beta:g}")
        ax.set_xlabel("alpha")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("Delta(alpha, beta) - Delta(0, beta)")
    fig.tight_layout()
    return fig


def synthetic_examples(images: list[tuple[float, np.ndarray, np.ndarray]], r: int) -> plt.Figure:
    """The paper's Figure 3: example distributions, the disks drawn as circles, one panel per gap."""
    fig, axes = plt.subplots(1, len(images), figsize=(3.2 * len(images), 3.4), squeeze=False)
    for ax, (zeta, h, centres) in zip(axes[0], images):
        side = h.shape[0]
        for cx, cy in centres:
            ax.add_patch(plt.Circle((cy, cx), r, fill=True, facecolor="#4C72B0", edgecolor="black", lw=0.5))
        ax.set_xlim(0, side)
        ax.set_ylim(side, 0)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"zeta = {zeta:g} ({len(centres)} disks)")
    fig.tight_layout()
    return fig


def synthetic_heatmaps(df: pd.DataFrame, cmap: str = "RdBu_r") -> plt.Figure:
    """Per gap zeta, the mean Delta(alpha, beta) - Delta(0, beta) over the alpha x beta grid:
    blue where noise augmentation helped, red where it hurt."""
    mean = df.groupby(["zeta", "beta", "alpha"], as_index=False)["delta_rel"].mean()
    zetas = sorted(mean["zeta"].unique())
    lim = float(np.abs(mean["delta_rel"]).max()) or 1.0
    fig, axes = plt.subplots(1, len(zetas), figsize=(4.4 * len(zetas), 3.8), squeeze=False)
    for ax, zeta in zip(axes[0], zetas):
        grid = mean[mean["zeta"] == zeta].pivot(index="beta", columns="alpha", values="delta_rel")
        sns.heatmap(grid, ax=ax, cmap=cmap, vmin=-lim, vmax=lim, cbar=ax is axes[0][-1],
                    xticklabels=[f"{v:g}" for v in grid.columns], yticklabels=[f"{v:g}" for v in grid.index])
        ax.invert_yaxis()
        ax.set_title(f"zeta = {zeta:g}")
        ax.set_xlabel("alpha")
        ax.set_ylabel("beta")
    fig.suptitle("mean Delta(alpha, beta) - Delta(0, beta) (blue: noise augmentation helps)")
    fig.tight_layout()
    return fig
