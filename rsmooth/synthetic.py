"""The paper's synthetic experiment (Section 5): disks of class 1 separated by a gap zeta, on a
side x side grid, smoothed exactly by Gaussian filters.

With h the binary image and p_s the Gaussian density of standard deviation s, noise-augmented
training at alpha gives the base classifier phi(h * p_alpha), smoothing it at beta gives
phi(phi(h * p_alpha) * p_beta), and its risk is

    Delta(alpha, beta) = mean over the grid of |phi(h) - phi(phi(h * p_alpha) * p_beta)|,

with phi(z) = 1 if z >= 1/2 else 0. Delta(alpha, beta) - Delta(0, beta) < 0 means noise
augmentation at alpha helped the smoothed classifier at beta.

Sampling follows the paper's notebook exactly (numpy's legacy generator, the same candidate
order, the same acceptance window, and the same negative-index wrap at the top and left
edges), so the same seed gives the same images; ``wrap=False`` clips instead.

The aggregation of the per-beta curves (:func:`tidy`, :func:`cell_means`, :func:`helps_table`)
writes every number the synthetic figures draw, "helped" included (:func:`helped`, its one
definition); the figures (rsmooth/figures.py) only read those tables.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter


def disk_offsets(r: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (dx, dy) painted around a centre: dx, dy in range(-r, r), dx^2 + dy^2 <= r^2."""
    d = np.arange(-r, r)
    dx, dy = np.meshgrid(d, d, indexing="ij")
    keep = dx ** 2 + dy ** 2 <= r ** 2
    return dx[keep], dy[keep]


def sample_disks(rng: np.random.RandomState, side: int, r: int, zeta: int, tries: int,
                 wrap: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One image h (uint8 [side, side], 1 on the disks) and its accepted centres [k, 2].

    Draws ``tries`` integer centres at once with ``rng.randint(0, side, size=(tries, 2))``
    and accepts a centre (cx, cy) when no accepted centre lies in rows
    max(0, cx - s) .. min(side, cx + s) - 1 and the same columns, s = 2r + zeta. Pixels at an
    index >= side are skipped; negative indices wrap to the far edge (``wrap``) or are skipped.
    """
    centres_map = np.zeros((side, side), dtype=bool)
    h = np.zeros((side, side), dtype=np.uint8)
    cand = rng.randint(0, side, size=(tries, 2))
    s = 2 * r + zeta
    dx, dy = disk_offsets(r)
    accepted = []
    for cx, cy in cand:
        if centres_map[max(0, cx - s):min(side, cx + s), max(0, cy - s):min(side, cy + s)].any():
            continue
        centres_map[cx, cy] = True
        accepted.append((cx, cy))
        i, j = cx + dx, cy + dy
        keep = (i < side) & (j < side)
        if not wrap:
            keep &= (i >= 0) & (j >= 0)
        h[i[keep], j[keep]] = 1  # negative indices wrap, as in the paper's Python loop
    return h, np.array(accepted, dtype=np.int64).reshape(-1, 2)


def gauss(h: np.ndarray, sigma: float) -> np.ndarray:
    """h * p_sigma: ``gaussian_filter`` on float32 with zeros outside the grid (sigma 0: h)."""
    return gaussian_filter(h.astype(np.float32), sigma=sigma, mode="constant", cval=0.0)


def phi(z: np.ndarray) -> np.ndarray:
    """The threshold: 1 where z >= 0.5, else 0 (float32)."""
    return (z >= 0.5).astype(np.float32)


def risk(h: np.ndarray, alpha: float, beta: float) -> float:
    """Delta(alpha, beta) of one image."""
    return float(np.mean(np.abs(phi(h) - phi(gauss(phi(gauss(h, alpha)), beta)))))


def risk_grid(h: np.ndarray, alphas, betas) -> np.ndarray:
    """Delta(alpha, beta) for every pair: [len(alphas), len(betas)], each base classifier
    phi(h * p_alpha) computed once."""
    target = phi(h)
    out = np.empty((len(alphas), len(betas)))
    for i, a in enumerate(alphas):
        base = phi(gauss(h, a))
        for j, b in enumerate(betas):
            out[i, j] = np.mean(np.abs(target - phi(gauss(base, b))))
    return out


def examples(seed: int, side: int, r: int, zetas, tries: int, wrap: bool = True) -> pd.DataFrame:
    """The paper's Figure 3 as a table: one image per gap, drawn in the order of ``zetas`` from
    one ``RandomState(seed)``; a row per accepted disk (zeta, cx, cy, with the radius ``r`` and
    the image's ``side``)."""
    rng = np.random.RandomState(seed)
    rows = []
    for zeta in zetas:
        centres = sample_disks(rng, side, r, zeta, tries, wrap)[1]
        rows += [{"zeta": zeta, "cx": cx, "cy": cy, "r": r, "side": side} for cx, cy in centres]
    return pd.DataFrame(rows, columns=["zeta", "cx", "cy", "r", "side"])


CELL = ["beta", "zeta", "alpha"]  # one cell of a set: its mean is over the sampled images


def helped(mean_delta_rel) -> np.ndarray:
    """Where noise augmentation helped: the mean over the images of a cell of
    Delta(alpha, beta) - Delta(0, beta) is below 0 (the one definition; never at alpha = 0)."""
    return np.asarray(mean_delta_rel, dtype=float) < 0


def tidy(curves: pd.DataFrame, window: int | None = None, order: int | None = None) -> pd.DataFrame:
    """The tidy table of a set from its per-beta curves (rows beta, zeta, sample, alpha, delta,
    delta_rel), sorted, with ``mean_delta_rel``, the mean over the samples of each cell; with
    ``window`` also ``smoothed_delta_rel``: that mean over alpha, Savitzky-Golay-smoothed (the one
    curve policy, rsmooth.curves.savgol, window and ``order``) and re-based to 0 at the first
    alpha (Figure 4's line)."""
    df = curves.sort_values(["beta", "zeta", "sample", "alpha"])
    df["mean_delta_rel"] = df.groupby(CELL)["delta_rel"].transform("mean")
    if window:
        from .curves import savgol

        mean = df.groupby(CELL, as_index=False)["mean_delta_rel"].first()
        for _, g in mean.groupby(["beta", "zeta"]):
            sm = savgol(g["mean_delta_rel"].to_numpy(), window, order)
            mean.loc[g.index, "smoothed_delta_rel"] = sm - sm[0]
        df = df.merge(mean.drop(columns="mean_delta_rel"), on=CELL, how="left")
    return df


def cell_means(df: pd.DataFrame) -> pd.DataFrame:
    """One row per cell (beta, zeta, alpha) of a tidy table (:func:`tidy`): its
    ``mean_delta_rel`` (and ``smoothed_delta_rel`` where the table has it) and whether noise
    helped there (:func:`helped`); what the synthetic figures draw."""
    cols = [c for c in ("mean_delta_rel", "smoothed_delta_rel") if c in df]
    out = df.groupby(CELL, as_index=False)[cols].first()
    out["helped"] = helped(out["mean_delta_rel"])
    return out


def helps_table(means: pd.DataFrame) -> pd.DataFrame:
    """Per gap zeta, over the cells with alpha > 0 of a set (``means``: :func:`cell_means`): how
    many cells, how many where noise helped (:func:`helped`), their fraction and the lowest mean
    Delta(alpha, beta) - Delta(0, beta)."""
    cells = means[means["alpha"] > 0]
    table = cells.groupby("zeta").agg(cells=("helped", "size"), cells_helped=("helped", "sum"),
                                      best_mean_delta_rel=("mean_delta_rel", "min")).reset_index()
    table.insert(3, "fraction_helped", table["cells_helped"] / table["cells"])
    return table
