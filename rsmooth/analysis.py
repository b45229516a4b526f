"""From per-image certification tables to the paper's quantities: the risk Delta(alpha, beta)
of each smoothed classifier with its Clopper-Pearson interval, certified accuracy, and the best
training noise alpha*(beta) read off a Savitzky-Golay-smoothed risk curve."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import savgol_filter

PER_IMAGE_COLUMNS = ["index", "label", "vote", "count_top", "count_second", "n_evals",
                     "count_cert", "p_lower", "radius", "abstain", "correct"]


def summarize(per_image: pd.DataFrame, radii: list[float], level: float = 0.95) -> dict:
    """One row of the tidy risk table from one (alpha, beta, seed) certification CSV.

    ``risk`` is the test error of the majority vote; ``risk_low``/``risk_high`` its two-sided
    Clopper-Pearson interval at ``level``. ``cert_acc_r{r}`` is the fraction of images whose
    vote is right and certified at radius >= r (NaN when no certification draws were made).
    ``acr`` is the average certified radius (0 for wrong or abstained images).
    """
    from .core import clopper_pearson_interval  # here, so figures need not load torch

    n = len(per_image)
    errors = int((~per_image["correct"].astype(bool)).sum())
    low, high = clopper_pearson_interval(errors, n, level)
    row = {"n_test": n, "errors": errors, "risk": errors / n if n else np.nan,
           "risk_low": float(low), "risk_high": float(high)}
    certified = per_image["p_lower"].notna().any()
    radius = per_image["radius"].to_numpy(dtype=float)
    good = per_image["correct"].astype(bool).to_numpy() & ~np.isnan(radius)
    for r in radii:
        row[f"cert_acc_r{r:g}"] = float((good & (radius >= r)).mean()) if certified else np.nan
    row["acr"] = float(np.where(good, radius, 0.0).mean()) if certified else np.nan
    row["mean_evals"] = float(per_image["n_evals"].mean())
    return row


def savgol_window(n_points: int, window: int, order: int) -> int | None:
    """The odd window actually used: ``window``, shrunk to the largest odd number <= n_points.
    None when too few points remain for a polynomial of ``order`` (no smoothing)."""
    w = min(window, n_points if n_points % 2 else n_points - 1)
    return w if w > order else None


def smooth_curve(y: np.ndarray, window: int, order: int) -> np.ndarray:
    """Savitzky-Golay smoothing of a curve on an evenly spaced grid (as the paper does)."""
    w = savgol_window(len(y), window, order)
    return np.asarray(y, dtype=float) if w is None else savgol_filter(np.asarray(y, float), w, order)


def alpha_star(risk: pd.DataFrame, window: int = 15, order: int = 3) -> pd.DataFrame:
    """Per (seed, beta): alpha* = argmin over alpha of the smoothed risk curve.

    Columns: seed, beta, alpha_star, risk_smoothed_at_star, risk_at_star (measured),
    risk_alpha0 (risk at alpha = 0), alpha_near_beta (the grid alpha nearest to beta),
    risk_alpha_beta (risk there), savgol_window (the window used; 0 = none).
    """
    rows = []
    for (seed, beta), g in risk.groupby(["seed", "beta"], sort=True):
        g = g.sort_values("alpha")
        a = g["alpha"].to_numpy(float)
        r = g["risk"].to_numpy(float)
        sm = smooth_curve(r, window, order)
        k = int(np.argmin(sm))
        near = int(np.argmin(np.abs(a - beta)))
        zero = np.flatnonzero(a == 0)
        rows.append({"seed": seed, "beta": beta, "alpha_star": a[k],
                     "risk_smoothed_at_star": sm[k], "risk_at_star": r[k],
                     "risk_alpha0": r[zero[0]] if len(zero) else np.nan,
                     "alpha_near_beta": a[near], "risk_alpha_beta": r[near],
                     "savgol_window": savgol_window(len(r), window, order) or 0})
    return pd.DataFrame(rows)
