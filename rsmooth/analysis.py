"""From per-image certification tables to the paper's quantities: the risk Delta(alpha, beta)
of each smoothed classifier with its Clopper-Pearson interval, certified accuracy, and the best
training noise alpha*(beta) read off a fitted risk curve (rsmooth/curves.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .io import PER_IMAGE_COLUMNS  # noqa: F401  (defined beside the writers)


def read_table(path, columns: list[str]) -> pd.DataFrame:
    """A CSV the pipeline wrote, checked: readable, not empty, with ``columns``, none of them
    empty. A ValueError names the file and the problem (a truncated file fails here)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        if f.tell() and (f.seek(-1, 2), f.read(1))[1] != b"\n":
            raise ValueError(f"{path}: truncated (the last line is incomplete)")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a readable CSV table ({type(e).__name__}: "
                         f"{str(e).strip().splitlines()[-1] if str(e).strip() else 'empty'})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    if df.empty:
        raise ValueError(f"{path}: the table has no rows")
    holes = [c for c in columns if df[c].isna().any()]
    if holes:
        raise ValueError(f"{path}: empty values in column(s) {holes} (a truncated file?)")
    return df


# Columns of a certification table that are never empty (p_lower and radius may be).
_REQUIRED = ["alpha", "beta", "seed", "index", "label", "vote", "count_top", "count_second",
             "n_evals", "count_cert", "abstain", "correct"]


def read_certification(path) -> pd.DataFrame:
    """One per-image certification table, checked (see :func:`read_table`): every column,
    one (alpha, beta, seed), image indices without repeats."""
    df = read_table(path, _REQUIRED)
    missing = [c for c in PER_IMAGE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    if not df["correct"].isin([0, 1]).all():
        raise ValueError(f"{path}: column correct must be 0 or 1")
    for c in ("alpha", "beta", "seed"):
        if df[c].nunique() != 1:
            raise ValueError(f"{path}: column {c} holds several values; one job per table")
    if df["index"].duplicated().any():
        raise ValueError(f"{path}: repeated image indices")
    return df


def read_certifications(paths) -> dict:
    """Every certification table, checked (:func:`read_certification`), sorted by image index,
    each (alpha, beta, seed) once and, within a seed, the same images everywhere
    (:func:`check_same_images`). A ValueError names the offending file."""
    tables, seen = {}, {}
    for path in paths:
        df = read_certification(path).sort_values("index", kind="stable").reset_index(drop=True)
        key = tuple(float(df[c].iloc[0]) for c in ("alpha", "beta", "seed"))
        if key in seen:
            raise ValueError(f"{path}: (alpha, beta, seed) = {key} again (first in {seen[key]})")
        seen[key] = path
        tables[path] = df
    check_same_images(tables)
    return tables


def check_same_images(tables: dict) -> None:
    """Within a seed every certification table must cover the same test images (the pairing of
    alphas and betas rests on it); a ValueError names the first table that differs."""
    first: dict = {}
    for path, df in tables.items():
        seed, idx = int(df["seed"].iloc[0]), df["index"].to_numpy()
        if seed not in first:
            first[seed] = (path, idx)
        elif not np.array_equal(np.sort(first[seed][1]), np.sort(idx)):
            raise ValueError(f"{path}: covers {len(idx)} test images where {first[seed][0]} covers "
                             f"{len(first[seed][1])} (a truncated or stale table?)")


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
    from scipy.signal import savgol_filter  # here, not at the top: a slow import few callers need

    w = savgol_window(len(y), window, order)
    return np.asarray(y, dtype=float) if w is None else savgol_filter(np.asarray(y, float), w, order)


def alpha_star(risk: pd.DataFrame, window: int = 15, order: int = 3) -> pd.DataFrame:
    """Per (seed, beta): alpha* = argmin over alpha of the fitted risk curve
    (:func:`rsmooth.curves.best_alpha`: the paper's Savitzky-Golay where the grid is even and
    has ``window`` alphas, else the least-squares valley fit; never below 0 nor below the
    smallest measured risk, and alpha* is a grid alpha).

    Columns: seed, beta, alpha_star, risk_fitted_at_star, risk_at_star (measured),
    risk_alpha0 (risk at alpha = 0), alpha_near_beta (the grid alpha nearest to beta),
    risk_alpha_beta (risk there), curve_method (savgol, unimodal or raw).
    """
    from .curves import best_alpha

    rows = []
    for (seed, beta), g in risk.groupby(["seed", "beta"], sort=True):
        g = g.sort_values("alpha")
        a = g["alpha"].to_numpy(float)
        r = g["risk"].to_numpy(float)
        star, fitted, method = best_alpha(a, r, window, order)
        k = int(np.flatnonzero(a == star)[0])
        near = int(np.argmin(np.abs(a - beta)))
        zero = np.flatnonzero(a == 0)
        rows.append({"seed": seed, "beta": beta, "alpha_star": a[k],
                     "risk_fitted_at_star": fitted, "risk_at_star": r[k],
                     "risk_alpha0": r[zero[0]] if len(zero) else np.nan,
                     "alpha_near_beta": a[near], "risk_alpha_beta": r[near],
                     "curve_method": method})
    return pd.DataFrame(rows)


def paired_gap(err_a: np.ndarray, err_b: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Risk of a minus risk of b on the same test images and the same noise draws, with a
    paired normal interval: mean of the per-image differences of the error indicators
    +- z * sd / sqrt(n). Exactly (0, 0, 0) when the two classifiers err on the same images."""
    from scipy.stats import norm

    d = np.asarray(err_a, float) - np.asarray(err_b, float)
    gap = float(d.mean())
    if len(d) < 2 or not d.any():
        return gap, gap, gap
    half = norm.ppf(0.5 + level / 2) * d.std(ddof=1) / np.sqrt(len(d))
    return gap, gap - half, gap + half


def add_gaps(star: pd.DataFrame, errors: dict, window: int = 15, order: int = 3) -> pd.DataFrame:
    """Add to the alpha* table the risk gap between alpha = beta and alpha*, cross-fitted so
    that choosing alpha* does not flatter it: alpha* is chosen on the even-position test images
    and the gap measured on the odd ones, then the other way round; ``gap`` is the mean of the
    per-image differences of the error indicators over all images, with a paired 95% interval
    (conditional on the trained models: seeds are the replicates for the training procedure,
    see claims.csv). ``alpha_star_halves`` gives the two alpha* ("even/odd"). ``errors`` maps
    (alpha, beta, seed) to the per-image error indicators (1 - correct), in one image order."""
    from .curves import best_alpha

    star = star.copy()
    cols = {"gap": [], "gap_low": [], "gap_high": [], "alpha_star_halves": []}
    for row in star.itertuples():
        alphas = sorted(a for a, b, s in errors if b == row.beta and s == row.seed)
        e = np.array([errors[(a, row.beta, row.seed)] for a in alphas], dtype=float)
        near = alphas.index(row.alpha_near_beta)
        d, chosen = [], []
        for pick, measure in ((slice(0, None, 2), slice(1, None, 2)), (slice(1, None, 2), slice(0, None, 2))):
            a_star = best_alpha(alphas, e[:, pick].mean(axis=1), window, order)[0]
            chosen.append(a_star)
            d.append(e[near, measure] - e[alphas.index(a_star), measure])
        d = np.concatenate(d)
        for k, v in zip(("gap", "gap_low", "gap_high"), paired_gap(d, np.zeros_like(d))):
            cols[k].append(v)
        cols["alpha_star_halves"].append("/".join(f"{a:g}" for a in chosen))
    return star.assign(**cols)


def across_seeds(risk: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per (alpha, beta): the number of seeds, the mean and standard deviation of the risk over
    seeds, and a Student-t interval for the mean, clipped to [0, 1] where a risk lies (NaN with
    one seed)."""
    from scipy.stats import t

    g = risk.groupby(["alpha", "beta"])["risk"]
    out = g.agg(n_seeds="size", risk_mean="mean", risk_std="std").reset_index()
    half = t.ppf(0.5 + level / 2, np.maximum(out["n_seeds"] - 1, 1)) * out["risk_std"] / np.sqrt(out["n_seeds"])
    out["risk_mean_low"] = (out["risk_mean"] - half).clip(lower=0.0)
    out["risk_mean_high"] = (out["risk_mean"] + half).clip(upper=1.0)
    return out


def alpha_star_spread(star: pd.DataFrame) -> pd.DataFrame:
    """Per beta: alpha* over seeds (mean, std, min, max) and the mean paired gap."""
    agg = {"n_seeds": ("alpha_star", "size"), "alpha_star_mean": ("alpha_star", "mean"),
           "alpha_star_std": ("alpha_star", "std"), "alpha_star_min": ("alpha_star", "min"),
           "alpha_star_max": ("alpha_star", "max")}
    if "gap" in star:
        agg["gap_mean"] = ("gap", "mean")
    return star.groupby("beta").agg(**agg).reset_index()
