"""From per-image certification tables to the risk table and the error cube: reading and
checking the tables, the risk Delta(alpha, beta) of each smoothed classifier with its
Clopper-Pearson interval, certified accuracy, the spread over seeds, and the cube
E[seed, alpha, beta, image] of per-image errors that every further statistic (alpha*, the
claims: rsmooth/claims.py) is computed from."""
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


def summarize(per_image: pd.DataFrame, radii: list[float], level: float) -> dict:
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
    for r, acc in zip(radii, certified_accuracy(per_image, radii)):
        row[f"cert_acc_r{r:g}"] = float(acc)
    row["acr"] = float(np.where(good, radius, 0.0).mean()) if certified else np.nan
    row["mean_evals"] = float(per_image["n_evals"].mean())
    return row


def certified_accuracy(per_image: pd.DataFrame, radii) -> np.ndarray:
    """Certified accuracy at each radius r of ``radii``: the fraction of the table's images whose
    vote is right and certified at radius >= r; NaN at every r when the table drew no
    certification samples (no ``p_lower``). The one definition: risk.csv's ``cert_acc_r{r}``
    columns and certified.csv (:func:`certified_curve`) both come from here."""
    if not per_image["p_lower"].notna().any():
        return np.full(len(radii), np.nan)
    radius = per_image["radius"].to_numpy(dtype=float)
    good = per_image["correct"].astype(bool).to_numpy() & ~np.isnan(radius)
    return np.array([(good & (radius >= r)).mean() for r in radii], dtype=float)


CURVE_COLUMNS = ["radius", "cert_acc"]


def certified_curve(per_image: pd.DataFrame) -> pd.DataFrame:
    """The whole certified-accuracy curve of one certification table, exactly: ``radius`` 0 and
    every radius of a right, certified image (ascending, each once) with ``cert_acc``, the
    certified accuracy there (:func:`certified_accuracy`). The curve is a step function: at any
    r it is the ``cert_acc`` of the first row whose radius is >= r, and 0 beyond the last row.
    No rows when the table drew no certification samples."""
    if not per_image["p_lower"].notna().any():
        return pd.DataFrame(columns=CURVE_COLUMNS)
    radius = per_image["radius"].to_numpy(dtype=float)
    good = per_image["correct"].astype(bool).to_numpy() & ~np.isnan(radius)
    steps = np.unique(np.concatenate([[0.0], radius[good]]))
    return pd.DataFrame({"radius": steps, "cert_acc": certified_accuracy(per_image, steps)})


def certified_curves(tables, dataset: str = "") -> pd.DataFrame:
    """certified.csv: the :func:`certified_curve` of every certification table that drew radii,
    with its dataset, alpha, beta and seed, sorted by seed, alpha, beta and radius."""
    keys = ["dataset", "alpha", "beta", "seed"]
    curves = [certified_curve(df).assign(dataset=dataset, alpha=float(df["alpha"].iloc[0]),
                                         beta=float(df["beta"].iloc[0]), seed=int(df["seed"].iloc[0]))
              for df in tables]
    curves = [c for c in curves if len(c)]
    if not curves:
        return pd.DataFrame(columns=keys + CURVE_COLUMNS)
    out = pd.concat(curves, ignore_index=True)[keys + CURVE_COLUMNS]
    return out.sort_values(["seed", "alpha", "beta", "radius"]).reset_index(drop=True)


def across_seeds(risk: pd.DataFrame, level: float) -> pd.DataFrame:
    """Per (alpha, beta): the number of seeds, the mean and standard deviation of the risk over
    seeds, and a Student-t interval at ``level`` for the mean, clipped to [0, 1] where a risk
    lies (NaN with one seed)."""
    from scipy.stats import t

    g = risk.groupby(["alpha", "beta"])["risk"]
    out = g.agg(n_seeds="size", risk_mean="mean", risk_std="std").reset_index()
    half = t.ppf(0.5 + level / 2, np.maximum(out["n_seeds"] - 1, 1)) * out["risk_std"] / np.sqrt(out["n_seeds"])
    out["risk_mean_low"] = (out["risk_mean"] - half).clip(lower=0.0)
    out["risk_mean_high"] = (out["risk_mean"] + half).clip(upper=1.0)
    return out


def errors_from_certs(per_image: pd.DataFrame) -> pd.DataFrame:
    """The errors table (alpha, beta, seed, index, error) of per-image certification rows."""
    out = per_image[["alpha", "beta", "seed", "index"]].copy()
    out["error"] = 1 - per_image["correct"].astype(int)
    return out


def error_cubes(errors: pd.DataFrame):
    """The error cube E[seed, alpha, beta, image] of an errors table (alpha, beta, seed, index,
    error), checked: (alphas, betas, {seed: (E[alpha, beta, image], image indices)}). Every
    (alpha, beta) of a seed must cover the same images, with both even and odd indices (the
    cross-fitting splits by parity); a ValueError says what is wrong."""
    need = ["alpha", "beta", "seed", "index", "error"]
    missing = [c for c in need if c not in errors.columns]
    if missing:
        raise ValueError(f"errors table lacks columns {missing}")
    if errors.empty:
        raise ValueError("errors table is empty")
    if errors[need].isna().any().any():
        raise ValueError("errors table has missing values")
    if not errors["error"].isin([0, 1]).all():
        raise ValueError("error must be 0 or 1")
    alphas = np.sort(errors["alpha"].astype(float).unique())
    betas = np.sort(errors["beta"].astype(float).unique())
    cubes = {}
    for seed, g in errors.groupby("seed", sort=True):
        if g.duplicated(["alpha", "beta", "index"]).any():
            raise ValueError(f"seed {seed}: an image appears twice for one (alpha, beta)")
        idx = np.sort(g["index"].unique())
        sizes = g.groupby(["alpha", "beta"]).size()
        if len(sizes) != len(alphas) * len(betas):
            have = set(sizes.index)
            gone = [(a, b) for a in alphas for b in betas if (a, b) not in have]
            raise ValueError(f"seed {seed}: no errors for (alpha, beta) = {gone[:5]}")
        if (sizes != len(idx)).any():
            (a, b) = sizes.index[int(np.argmax(sizes.to_numpy() != len(idx)))]
            raise ValueError(f"seed {seed}: (alpha, beta) = ({a:g}, {b:g}) covers {sizes[(a, b)]} "
                             f"of the seed's {len(idx)} images; every table must cover the same ones")
        even = idx % 2 == 0
        if even.all() or not even.any():
            raise ValueError(f"seed {seed}: need images with both even and odd index (cross-fitting)")
        e = np.zeros((len(alphas), len(betas), len(idx)), dtype=np.float32)
        e[np.searchsorted(alphas, g["alpha"].astype(float)), np.searchsorted(betas, g["beta"].astype(float)),
          np.searchsorted(idx, g["index"])] = g["error"].to_numpy(np.float32)
        cubes[seed] = (e, idx)
    return alphas, betas, cubes
