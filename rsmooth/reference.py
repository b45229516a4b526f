"""The paper's own result tables (``reference/``) beside this pipeline's.

A reference table has one row per (alpha, beta) with ``errors`` (wrong majority votes) and
``risk`` = errors / N over one test-image count N, which :func:`load_reference` derives from the
file itself and checks (rules/compare.smk calls it when the workflow is read, so a malformed
table is refused before any job runs). :func:`compare` puts our risks (risk.csv) and alpha*
(alpha_star.csv) beside the paper's: cells matched to the nearest reference alpha and beta
closer than ``tolerance``, our risk the mean over seeds, with the ratio ours / paper, its
interval (:func:`risk_ratio`) and a fidelity verdict against a tolerance fixed before the run
(:func:`fidelity_verdict`); the paper's alpha* as the authors computed it, the argmin of a
Savitzky-Golay filter (window 15, order 3) run over the *positions* of its alpha grid (the
MNIST grid lacks 0.53 and 0.59, the CIFAR-10 grid is uneven: the filter treats each step as
one), and the raw argmin of its measured risks, set against our alpha* confidence set
(:func:`star_verdict`). :func:`replay_claims` replays C1-C3 on the paper's counts. The
Snakefile imports this module (:func:`resolve`, :func:`load_reference`,
:func:`fidelity_band`), so pandas is imported only where a function needs it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

PAPER = "paper"  # the config value meaning "the paper's table of this source"
REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
PAPER_TABLES = {"mnist": "pal_sulam_2023_mnist_risk.csv", "cifar10": "pal_sulam_2023_cifar10_risk.csv"}
TOLERANCE = 0.005  # a reference alpha or beta matches ours when |difference| < this
PAPER_WINDOW, PAPER_ORDER = 15, 3  # the paper's Savitzky-Golay filter
LEVEL = 0.95  # the default level of a Clopper-Pearson interval (cp)
HALF = 0.5  # zero errors count as half an error in the ratio ours / paper (continuity correction)
YES, NO, UNDECIDED = "yes", "no", "undecided"  # the agrees column
COLUMNS = ["dataset", "seed", "n_seeds", "quantity", "beta", "beta_paper", "alpha_ours", "alpha_paper",
           "ours", "ours_low", "ours_high", "paper", "paper_low", "paper_high", "difference", "overlap",
           "ratio", "ratio_low", "ratio_high", "agrees", "fidelity_low", "fidelity_high", "our_images",
           "n_ours", "paper_images", "tolerance", "level", "note"]


def resolve(spec, source: str, classes=None) -> Path | None:
    """The reference table of a dataset: None for ``spec`` None; for ``paper``, the paper's table
    of ``source`` (mnist, cifar10; none for npz or when ``classes`` keeps a subset of the
    classes); else the path ``spec``. ValueError when that file does not exist."""
    if spec is None or (spec == PAPER and (source not in PAPER_TABLES or classes)):
        return None
    path = REFERENCE_DIR / PAPER_TABLES[source] if spec == PAPER else Path(spec)
    if not path.is_file():
        raise ValueError(f"reference table {path}: no such file")
    return path


def load_reference(path) -> tuple[pd.DataFrame, int]:
    """The checked reference table (alpha, beta, errors, risk; sorted) and its test-image count
    N = errors / risk. ValueError, one line naming the file: a missing column, a value that is
    not a number, a negative or fractional error count, a risk outside [0, 1], a repeated or
    missing (alpha, beta), or errors / risk not one integer N in every row."""
    import pandas as pd

    from .analysis import read_table

    cols = ["alpha", "beta", "errors", "risk"]
    df = read_table(path, cols)
    for c in cols:
        num = pd.to_numeric(df[c], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(num.to_numpy(float)))
        if len(bad):
            raise ValueError(f"{path}: column {c} is not numeric (line {bad[0] + 2}: {df[c].iloc[bad[0]]!r})")
        df[c] = num
    df["alpha"], df["beta"] = df["alpha"].astype(float).round(10), df["beta"].astype(float).round(10)
    df["errors"] = df["errors"].astype(int) if (df["errors"] % 1 == 0).all() else df["errors"]
    for what, bad in (("a negative alpha or beta", (df["alpha"] < 0) | (df["beta"] < 0)),
                      ("errors not a count >= 0", (df["errors"] < 0) | (df["errors"] % 1 != 0)),
                      ("risk outside [0, 1]", ~df["risk"].between(0, 1)),
                      ("(alpha, beta) repeated", df.duplicated(["alpha", "beta"]))):
        if bad.any():
            raise ValueError(f"{path}: {what} (line {int(np.flatnonzero(bad)[0]) + 2})")
    if len(df) != df["alpha"].nunique() * df["beta"].nunique():
        raise ValueError(f"{path}: not a full alpha x beta grid ({len(df)} rows for {df['alpha'].nunique()} "
                         f"alphas x {df['beta'].nunique()} betas)")
    pos = (df["risk"] > 0).to_numpy()
    line = df.index.to_numpy() + 2  # the file's line of each row (line 1: the header)
    if (df.loc[~pos, "errors"] != 0).any():
        raise ValueError(f"{path}: risk 0 with errors > 0 (line {line[~pos & (df['errors'] != 0).to_numpy()][0]})")
    if not pos.any():
        raise ValueError(f"{path}: every risk is 0, so the test-image count errors / risk is unknown")
    counts = (df["errors"] / df["risk"]).to_numpy()[pos]
    n = int(round(counts[0]))
    off = ~np.isclose(counts, n, rtol=1e-6, atol=0)
    if n < 1 or off.any():
        raise ValueError(f"{path}: errors / risk is {counts[0]:g} on line {line[pos][0]} but {counts[off][0]:g} on "
                         f"line {line[pos][off][0]}: the risks are not errors over one test-image count")
    return df.sort_values(["beta", "alpha"]).reset_index(drop=True), n


def match(values, reference, tolerance: float = TOLERANCE) -> np.ndarray:
    """For each value, the nearest reference value if it is closer than ``tolerance`` (distances
    rounded to 10 decimals, so 0.125 is not within 0.005 of 0.12 or 0.13), else NaN."""
    v = np.asarray(values, dtype=float).reshape(-1)
    ref = np.sort(np.asarray(reference, dtype=float))
    if len(ref) == 0:
        return np.full(len(v), np.nan)
    k = np.abs(v[:, None] - ref[None, :]).argmin(axis=1)
    near = ref[k]
    return np.where(np.round(np.abs(v - near), 10) < tolerance, near, np.nan)


def raw_argmin(alphas, risks) -> float:
    """The alpha of the smallest measured risk (ties: the smallest alpha)."""
    a, r = np.asarray(alphas, float), np.asarray(risks, float)
    return float(a[np.flatnonzero(r == r.min())].min())


def paper_alpha_star(alphas, risks) -> float:
    """The paper's alpha*: the argmin of the Savitzky-Golay (15, 3) filter of the risks run over
    the positions of the sorted alpha grid, as the authors' code does (also where the grid is
    uneven), unclipped; ties: the smallest alpha. A grid of fewer alphas than the window holds
    no filter: then the raw argmin."""
    from .curves import savgol

    order = np.argsort(np.asarray(alphas, float))
    a, r = np.asarray(alphas, float)[order], np.asarray(risks, float)[order]
    return raw_argmin(a, savgol(r, PAPER_WINDOW, PAPER_ORDER) if len(r) >= PAPER_WINDOW else r)


def cp(errors, n, level: float = LEVEL) -> tuple[float, float]:
    """The two-sided Clopper-Pearson interval of errors / n (rsmooth.core), as floats."""
    from .core import clopper_pearson_interval

    low, high = clopper_pearson_interval(errors, n, level)
    return float(low), float(high)


QUANTITIES = ("alpha_star", "alpha_star_raw", "risk_alpha0", "risk_alpha_beta", "risk_alpha_star")
NAN3 = (np.nan, np.nan, np.nan)
PAPER_STAR = f"paper: Savitzky-Golay ({PAPER_WINDOW}, {PAPER_ORDER}) over the positions of its alpha grid"


# --- the fidelity verdicts --------------------------------------------------------------------

def fidelity_band(band) -> tuple[float, float]:
    """The tolerance [low, high] of the ratio ours / paper (``analysis.fidelity_ratio``) as two
    floats; ValueError, one line, unless 0 < low < 1 < high."""
    low, high = (float(x) for x in band)
    if not 0 < low < 1 < high:
        raise ValueError(f"the tolerance [low, high] of the ratio ours / paper needs 0 < low < 1 < high, "
                         f"not [{low:g}, {high:g}]")
    return low, high


def model_luck(risk: pd.DataFrame) -> tuple[float, int]:
    """One model's relative variance of the risk (model luck), pooled over the cells of
    ``risk`` (risk.csv: alpha, beta, risk per seed): (V, df), V the mean of each cell's
    between-seed variance over its squared mean, weighted by its S - 1 degrees of freedom, df
    their sum; (0, 0) without a cell of two seeds and errors. Pooling assumes that the relative
    spread between seeds is alike across cells; one cell's own S - 1 (1 with two seeds) would
    leave almost every verdict undecided."""
    parts = [(float(np.var(g, ddof=1)) / float(np.mean(g)) ** 2, len(g) - 1)
             for _, g in risk.groupby(["alpha", "beta"])["risk"] if len(g) >= 2 and np.mean(g) > 0]
    df = sum(d for _, d in parts)
    return (sum(v * d for v, d in parts) / df, df) if df else (0.0, 0)


def risk_ratio(seed_errors, seed_images, paper_errors: float, n_paper: int, level: float,
               model: tuple[float, int] | None = None):
    """The ratio ours / paper of one cell with its two-sided interval at ``level``: (ratio, low,
    high, df, note); ``seed_errors`` and ``seed_images`` are our errors and test images per seed
    (S seeds), ``paper_errors`` the paper's errors over its ``n_paper`` images, ``model`` the
    relative variance of one model's risk with its df (:func:`model_luck`; None: this cell's
    own between-seed variance, S - 1 df).

    On the log scale, by the delta method, with p_o = sum of our errors / sum of our images (the
    mean risk over seeds when every seed has the same images) and p_p = the paper's risk::

        log(p_o / p_p) +- q SE,   SE^2 = SE_o^2 + SE_p^2
        SE_o^2 = max(V / S, (1 - p_o) / e_o)       (V = 0 with one seed: the binomial)
        SE_p^2 = (1 - p_p) / e_p + V

    e_o, e_p the error counts, V one model's relative variance. V in SE_p^2: the paper trained
    one model per cell, and its one draw of model luck counts. The floor of SE_o^2 (the binomial
    over all our images, as W / S in rsmooth/claims.py) keeps seeds that agree by chance from
    giving a zero-width side. q: the normal quantile without V; else the Student-t quantile
    with Welch-Satterthwaite df = SE^4 / (M^2 / df_V), M the parts estimated with V (V, plus
    V / S where it is the larger part of SE_o^2), the binomial parts counted as exact. Zero
    errors on a side count as half an error (:data:`HALF`, a continuity correction) in its risk
    and its SE: a cell with no errors on either side has ratio (1 / 2 / (S n)) / (1 / 2 /
    n_paper)."""
    from scipy.stats import norm, t

    e, images = np.asarray(seed_errors, float), np.asarray(seed_images, float)
    s, total = len(e), e.sum()
    e_o, e_p = max(total, HALF), max(float(paper_errors), HALF)
    p_o, p_p = e_o / images.sum(), e_p / n_paper
    if model is None:  # this cell's own seeds
        import pandas as pd

        model = model_luck(pd.DataFrame({"alpha": 0.0, "beta": 0.0, "risk": e / images}))
    v, df_v = model if s >= 2 else (0.0, 0)
    binomial_o = (1 - p_o) / e_o
    seeds_win = v / s > binomial_o
    se2 = max(v / s, binomial_o) + (1 - p_p) / e_p + v
    estimated = v + (v / s if seeds_win else 0.0)
    df = se2 ** 2 / (estimated ** 2 / df_v) if estimated > 0 and df_v else np.inf
    tail = (1 - level) / 2
    q = norm.isf(tail) if np.isinf(df) else t.isf(tail, df)
    ratio, half = p_o / p_p, q * np.sqrt(se2)
    how = ["ratio interval: normal" if np.isinf(df) else f"ratio interval: Student-t, {df:.3g} df"]
    how += [f"no errors {who}: counted as half an error"
            for who, c in (("of ours", total), ("in the paper", paper_errors)) if c == 0]
    return ratio, ratio * np.exp(-half), ratio * np.exp(half), df, "; ".join(how)


def fidelity_verdict(low: float, high: float, band) -> str:
    """``yes`` when the ratio's interval [low, high] lies inside the tolerance ``band`` (an
    equivalence test: two one-sided tests, each at (1 - level) / 2), ``no`` when it lies
    entirely below or above it, else ``undecided``; "" without an interval."""
    lo, hi = band
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return YES if lo <= low and high <= hi else NO if high < lo or low > hi else UNDECIDED


def star_verdict(paper_star: float, members, grid) -> tuple[str, str]:
    """Whether the paper's alpha* lies in the span [min, max] of our alpha* confidence set
    ``members`` over our alpha ``grid`` at that beta: (agrees, why). ``yes`` inside the span
    (its ends included); ``no`` at or beyond a grid alpha outside the span (an alpha our data
    placed outside the set, or farther); ``undecided`` strictly between an end of the span and
    the next grid alpha outside it, or beyond the end of our grid (our grid cannot resolve it).
    Values compared rounded to 10 decimals; "" when either side has no alpha*."""
    if not np.isfinite(paper_star) or not len(members):
        return "", ""
    r = np.round(np.sort(np.asarray(grid, float)), 10)
    p, lo, hi = round(float(paper_star), 10), round(min(members), 10), round(max(members), 10)
    if lo <= p <= hi:
        return YES, ""
    outside = r[r < lo].max(initial=-np.inf) if p < lo else r[r > hi].min(initial=np.inf)
    end = lo if p < lo else hi
    if (p < lo and p <= outside) or (p > hi and p >= outside):
        return NO, f"the paper's alpha* {p:g} is at or beyond our grid alpha {outside:g}, outside our set"
    where = (f"between our set's end {end:g} and our grid's next alpha {outside:g}" if np.isfinite(outside)
             else f"beyond our grid's end {end:g}")
    return UNDECIDED, f"the paper's alpha* {p:g} lies {where}: our grid cannot resolve it"


def images_text(sample, n_test) -> str:
    """Which test images one side used, as ``SAMPLE N``: "random 3000", "all 10000", "first
    500"; ``unknown N`` where risk.csv has no ``sample`` column (``sample`` None)."""
    return f"{sample if isinstance(sample, str) and sample else 'unknown'} {int(n_test)}"


def verdict_counts(table: pd.DataFrame, quantity: str) -> dict:
    """{yes, no, undecided: how many rows of ``quantity`` (``risk`` or ``alpha_star``) say so}."""
    got = table.loc[table["quantity"] == quantity, "agrees"].value_counts()
    return {v: int(got.get(v, 0)) for v in (YES, NO, UNDECIDED)}


def summary(table: pd.DataFrame) -> str:
    """One line: how many compared cells and alpha* rows agree, disagree and are undecided."""
    c, s = verdict_counts(table, "risk"), verdict_counts(table, "alpha_star")
    lo, hi = table[["fidelity_low", "fidelity_high"]].iloc[0] if len(table) else (np.nan, np.nan)
    return (f"risk, {sum(c.values())} cells (ratio ours / paper within [{lo:g}, {hi:g}]): {c[YES]} agree, "
            f"{c[NO]} disagree, {c[UNDECIDED]} undecided; alpha*, {sum(s.values())} (seed, beta) rows (the "
            f"paper's in our confidence set's span): {s[YES]} agree, {s[NO]} disagree, {s[UNDECIDED]} undecided")


# --- the comparison table ---------------------------------------------------------------------

def _side(star, raw, near, cell, halves=(np.nan, np.nan)) -> dict:
    """{quantity: (alpha, value, low, high)} of one side at one beta; ``cell(alpha)`` gives the
    risk there with its interval (NaN where that side has no such cell)."""
    return {"alpha_star": (star, star, *halves), "alpha_star_raw": (raw, raw, np.nan, np.nan),
            "risk_alpha0": (0.0, *cell(0.0)), "risk_alpha_beta": (near, *cell(near)),
            "risk_alpha_star": (star, *cell(star))}


def paper_per_beta(ref: pd.DataFrame, n: int, tolerance: float = TOLERANCE, level: float = LEVEL) -> dict:
    """{beta: :func:`_side`} of the reference: alpha* by the paper's filter and raw, the risk at
    alpha = 0, at the reference alpha within ``tolerance`` of beta (none: NaN) and at alpha*."""
    out = {}
    for beta, g in ref.groupby("beta", sort=True):
        g = g.set_index("alpha").sort_index()

        def cell(a, g=g):
            return (g.loc[a, "errors"] / n, *cp(g.loc[a, "errors"], n, level)) if a in g.index else NAN3

        out[float(beta)] = _side(paper_alpha_star(g.index, g["risk"]), raw_argmin(g.index, g["risk"]),
                                 match([beta], g.index, tolerance)[0], cell)
    return out


def _row(quantity, seed, beta, beta_paper, ours, paper, **extra) -> dict:
    """One comparison row; ``ours`` and ``paper`` are (alpha, value, low, high), NaN where
    absent; ``extra`` the other columns."""
    import pandas as pd

    o, p = (tuple(float(x) for x in t) for t in (ours, paper))
    both, spans = np.isfinite(o[1]) and np.isfinite(p[1]), all(np.isfinite(o[1:] + p[1:]))
    return {"seed": seed, "quantity": quantity, "beta": beta, "beta_paper": beta_paper, "alpha_ours": o[0],
            "alpha_paper": p[0], "ours": o[1], "ours_low": o[2], "ours_high": o[3], "paper": p[1],
            "paper_low": p[2], "paper_high": p[3], "difference": o[1] - p[1] if both else np.nan,
            "overlap": (o[2] <= p[3] and p[2] <= o[3]) if spans else pd.NA, **extra}


def compare(risk: pd.DataFrame, star: pd.DataFrame, ref: pd.DataFrame, n: int, *, fidelity, level: float,
            tolerance: float = TOLERANCE) -> pd.DataFrame:
    """The comparison table (:data:`COLUMNS`, without ``dataset``; docs/outputs.md).

    A ``risk`` row per (alpha, beta) of risk.csv whose alpha and beta the reference has within
    ``tolerance``: our risk, the mean over seeds, with its interval at ``level`` (one seed: the
    Clopper-Pearson interval of risk.csv; several: the Student-t interval over seeds of
    risk_seeds.csv), the paper's errors / N with its Clopper-Pearson interval, the ratio ours /
    paper with its interval (:func:`risk_ratio`) and ``agrees`` against the tolerance
    ``fidelity`` (:func:`fidelity_verdict`). Then per (seed, beta) of alpha_star.csv, and per
    reference beta that none of ours matches (the paper's side alone), a row per
    :data:`QUANTITIES`; the ``alpha_star`` rows say whether the paper's alpha* lies in our
    confidence set's span (:func:`star_verdict`). risk.csv's ``sample`` column is optional
    (``our_images`` then says "unknown")."""
    import pandas as pd

    from .analysis import across_seeds

    band = fidelity_band(fidelity)
    paper = paper_per_beta(ref, n, tolerance, level)
    ref_alphas, ref_betas, missing = ref["alpha"].unique(), np.array(sorted(paper)), (np.nan,) * 4
    cells = ref.set_index(["alpha", "beta"])["errors"]
    risk = risk.assign(sample=risk["sample"] if "sample" in risk else None)
    pooled = across_seeds(risk, level).set_index(["alpha", "beta"])
    on_grid = (np.isfinite(match(risk["alpha"], ref_alphas, tolerance))
               & np.isfinite(match(risk["beta"], ref_betas, tolerance)))
    compared = list(risk.loc[on_grid, ["alpha", "beta"]].drop_duplicates().itertuples(index=False, name=None))
    luck = model_luck(risk.set_index(["alpha", "beta"]).loc[compared].reset_index()) if compared else (0.0, 0)
    rows = []
    for (beta, alpha), g in risk.groupby(["beta", "alpha"], sort=True):
        ap, bp = match([alpha], ref_alphas, tolerance)[0], match([beta], ref_betas, tolerance)[0]
        if not (np.isfinite(ap) and np.isfinite(bp)):
            continue
        e = cells[(ap, bp)]
        interval = (g[["risk_low", "risk_high"]].iloc[0] if len(g) == 1
                    else pooled.loc[(alpha, beta), ["risk_mean_low", "risk_mean_high"]])
        ratio, low, high, _, how = risk_ratio(g["errors"], g["n_test"], e, n, level, luck)
        rows.append(_row("risk", pd.NA, beta, bp, (alpha, g["risk"].mean(), *interval), (ap, e / n, *cp(e, n, level)),
                         n_seeds=len(g), ratio=ratio, ratio_low=low, ratio_high=high,
                         agrees=fidelity_verdict(low, high, band),
                         our_images=images_text(g["sample"].iloc[0], g["n_test"].iloc[0]),
                         n_ours=g["n_test"].iloc[0], note=how))
    ours = risk.set_index(["seed", "beta", "alpha"]).sort_index()
    sides, seen = [], set()  # per (seed, beta) of ours, then per reference beta that none of ours has
    for s in star.itertuples():
        g = ours.loc[(s.seed, s.beta)]

        def cell(a, g=g):
            return tuple(g.loc[a, ["risk", "risk_low", "risk_high"]]) if a in g.index else NAN3

        members = [float(v) for v in str(s.alpha_star_set).split()]
        near = float(g.index[np.argmin(np.abs(g.index.to_numpy(float) - s.beta))])
        bp = match([s.beta], ref_betas, tolerance)[0]
        seen.add(bp)
        theirs = paper.get(bp, {})
        agrees, why = star_verdict(theirs["alpha_star"][1] if theirs else np.nan, members, g.index)
        sides.append({"seed": s.seed, "beta": s.beta, "bp": bp, "theirs": theirs, "agrees": agrees,
                      "mine": _side(s.alpha_star, raw_argmin(g.index, g["risk"]), near, cell,
                                    (min(members), max(members))),
                      "n_ours": g["n_test"].iloc[0], "images": images_text(g["sample"].iloc[0], g["n_test"].iloc[0]),
                      "star_note": f"ours: {s.curve_method} fit, low/high: the ends of its confidence set "
                                   f"{{{' '.join(f'{v:g}' for v in members)}}}; " + PAPER_STAR
                                   + (f"; {why}" if why else "")})
    sides += [{"seed": pd.NA, "beta": b, "bp": b, "theirs": paper[b], "agrees": "", "mine": {}, "n_ours": pd.NA,
               "images": "", "star_note": PAPER_STAR} for b in ref_betas if b not in seen]
    for d in sides:
        mine, theirs, beta = d["mine"], d["theirs"], d["beta"]
        notes = {"alpha_star": d["star_note"], "alpha_star_raw": "argmin of the measured risks"}
        if mine and round(abs(mine["risk_alpha_beta"][0] - beta), 10) >= tolerance:
            notes["risk_alpha_beta"] = f"no alpha = beta on our grid: read at alpha {mine['risk_alpha_beta'][0]:g}"
        if theirs and not np.isfinite(theirs["risk_alpha_beta"][0]):
            notes["risk_alpha_beta"] = "no alpha = beta on the paper's grid"
        rows += [_row(q, d["seed"], beta, d["bp"], mine.get(q, missing), theirs.get(q, missing),
                      n_seeds=1 if mine else pd.NA, agrees=d["agrees"] if q == "alpha_star" else "",
                      our_images=d["images"], n_ours=d["n_ours"], note=notes.get(q, "")) for q in QUANTITIES]
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "dataset"])
    return out.assign(seed=out["seed"].astype("Int64"), n_seeds=out["n_seeds"].astype("Int64"),
                      n_ours=out["n_ours"].astype("Int64"), agrees=out["agrees"].fillna(""),
                      our_images=out["our_images"].fillna(""), note=out["note"].fillna(""),
                      fidelity_low=band[0], fidelity_high=band[1], paper_images=n, tolerance=tolerance,
                      level=level)


def replay_claims(ref: pd.DataFrame, n: int, *, window: int, order: int, level: float, n_boot: int,
                  rng_seed: int, delta: float | None) -> pd.DataFrame:
    """C1-C3 of rsmooth/claims.py on a reference table (its columns, one row per claim and C3
    beta), computed by the very statistics and verdict rules of the pipeline (``claims.Grid``,
    ``claims.pool`` with one seed, ``claims.alpha_star_set``, ``claims.claim_rows``). What counts
    allow instead of per-image errors: SE from ``n_boot`` parametric resamples of every cell,
    errors ~ Binomial(N, errors / N), cells independent (the paired resampling of images needs
    per-image errors, which were not released: wider than paired intervals for contrasts); one
    model per alpha (conditional on the authors' models). The gap would choose alpha* on the
    same counts that measure it, so its rows carry numbers but never a verdict."""
    from .claims import GAP, Grid, alpha_star_set, claim_rows, pool

    wide = ref.pivot(index="alpha", columns="beta", values="errors").sort_index()
    alphas, betas, e = wide.index.to_numpy(float), wide.columns.to_numpy(float), wide.to_numpy(float)
    grid = Grid(alphas, betas, window, order, delta)
    risk = e / n
    boot_risk = np.random.default_rng(rng_seed).binomial(n, risk, size=(n_boot,) + e.shape) / n

    def statistics(r):  # risks (m, alphas, betas); both "halves" are all images: no cross-fitting
        return grid.statistics(r, r, 1.0)

    point, stars = statistics(risk[None])
    pooled = pool(point, statistics(boot_risk)[0][None], True, n, level)
    sets = {j: alpha_star_set(risk[None, :, j], boot_risk[None, :, :, j], True, n, level)
            for j in range(len(betas))}
    star_alphas = alphas[stars[0]]
    how = f"normal, SE from {n_boot} resamples of each cell's errors ~ Binomial({n}, errors/{n}), cells independent"
    notes = {("C1", None): "risk(alpha=0, beta): " + ", ".join(f"{b:g}: {v:.4g}" for b, v in
                                                               zip(betas, risk[grid.zero[0]]))
             if len(grid.zero) else "needs alpha = 0",
             ("C2", None): "alpha*(beta): " + ", ".join(f"{b:g}: {a:g}" for b, a in zip(betas, star_alphas))}
    methods = {("C1", None): "least-squares slope; " + how,
               ("C2", None): f"least-squares slope, alpha* by {grid.curve} curve; " + how}
    for j, at, lo in grid.contrasts:
        methods[("C3", j)] = f"contrast fixed before the run (delta = {delta:g}); " + how
        notes[("C3", j)] = (f"alpha = beta - delta = {betas[j] - delta:g} is not on the alpha grid: no contrast"
                            if lo is None else f"risk(alpha={alphas[at]:g}) - risk(alpha={alphas[lo]:g})")
    for j, at in grid.c3:
        methods[(GAP, j)] = f"alpha* by {grid.curve} curve, gap on the same counts (no cross-fitting); " + how
        notes[(GAP, j)] = (f"alpha* {star_alphas[j]:g}; no verdict from counts: alpha* is chosen on the same "
                           "counts that measure the gap, which leans it upward (a flat-bottomed table reads "
                           "'supported' in about a third of simulated replays)")
        methods[("C3 set", j)] = ("alphas not shown worse than another (multiple comparisons with the best, "
                                  "Bonferroni over the k - 1 comparisons), cells independent; " + how)
        notes[("C3 set", j)] = f"estimate: beta - alpha* of the {grid.curve} fit ({star_alphas[j]:g})"
    return claim_rows(grid, pooled, sets, star_alphas, level, 1, n, notes, methods,
                      "; counts only: no paired interval (needs per-image errors, which were not released); "
                      "1 model per alpha: about the authors' models, not the training procedure", gap_decides=False)
