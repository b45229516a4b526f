"""The paper's own result tables (``reference/``) beside this pipeline's.

A reference table has one row per (alpha, beta) with ``errors`` (wrong majority votes) and
``risk`` = errors / N over one test-image count N, which :func:`load_reference` derives from the
file itself and checks. :func:`compare` puts our risks (risk.csv) and alpha* (alpha_star.csv)
beside the paper's: cells matched to the nearest reference alpha and beta closer than
``tolerance``; the paper's alpha* as the authors computed it, the argmin of a Savitzky-Golay
filter (window 15, order 3) run over the *positions* of its alpha grid (the MNIST grid lacks
0.53 and 0.59, the CIFAR-10 grid is uneven: the filter treats each step as one), and the raw
argmin of its measured risks. :func:`replay_claims` replays C1-C3 on the paper's counts. The
Snakefile imports this module (:func:`resolve`), so pandas is imported only where a function
needs it.
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
LEVEL = 0.95  # level of the per-cell Clopper-Pearson intervals (as risk.csv's)
COLUMNS = ["dataset", "seed", "quantity", "beta", "beta_paper", "alpha_ours", "alpha_paper", "ours",
           "ours_low", "ours_high", "paper", "paper_low", "paper_high", "difference", "overlap",
           "n_ours", "n_paper", "tolerance", "level", "note"]


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


def _side(star, raw, near, cell, halves=(np.nan, np.nan)) -> dict:
    """{quantity: (alpha, value, low, high)} of one side at one beta; ``cell(alpha)`` gives the
    risk there with its interval (NaN where that side has no such cell)."""
    return {"alpha_star": (star, star, *halves), "alpha_star_raw": (raw, raw, np.nan, np.nan),
            "risk_alpha0": (0.0, *cell(0.0)), "risk_alpha_beta": (near, *cell(near)),
            "risk_alpha_star": (star, *cell(star))}


def paper_per_beta(ref: pd.DataFrame, n: int, tolerance: float = TOLERANCE) -> dict:
    """{beta: :func:`_side`} of the reference: alpha* by the paper's filter and raw, the risk at
    alpha = 0, at the reference alpha within ``tolerance`` of beta (none: NaN) and at alpha*."""
    out = {}
    for beta, g in ref.groupby("beta", sort=True):
        g = g.set_index("alpha").sort_index()

        def cell(a, g=g):
            return (g.loc[a, "errors"] / n, *cp(g.loc[a, "errors"], n)) if a in g.index else NAN3

        out[float(beta)] = _side(paper_alpha_star(g.index, g["risk"]), raw_argmin(g.index, g["risk"]),
                                 match([beta], g.index, tolerance)[0], cell)
    return out


def _row(quantity, seed, beta, beta_paper, ours, paper, n_ours, n_paper, note=""):
    """One comparison row; ``ours`` and ``paper`` are (alpha, value, low, high), NaN where absent."""
    import pandas as pd

    o, p = (tuple(float(x) for x in t) for t in (ours, paper))
    both, spans = np.isfinite(o[1]) and np.isfinite(p[1]), all(np.isfinite(o[1:] + p[1:]))
    return {"seed": seed, "quantity": quantity, "beta": beta, "beta_paper": beta_paper, "alpha_ours": o[0],
            "alpha_paper": p[0], "ours": o[1], "ours_low": o[2], "ours_high": o[3], "paper": p[1],
            "paper_low": p[2], "paper_high": p[3], "difference": o[1] - p[1] if both else np.nan,
            "overlap": (o[2] <= p[3] and p[2] <= o[3]) if spans else pd.NA, "n_ours": n_ours,
            "n_paper": n_paper, "note": note}


def compare(risk: pd.DataFrame, star: pd.DataFrame, ref: pd.DataFrame, n: int,
            tolerance: float = TOLERANCE) -> pd.DataFrame:
    """The comparison table (:data:`COLUMNS`, without ``dataset``): a ``risk`` row per cell of
    risk.csv whose alpha and beta the reference has within ``tolerance``, our risk and 95%
    Clopper-Pearson interval beside the paper's (its errors over its N images); then per
    (seed, beta) of alpha_star.csv, and per reference beta that none of ours matches (the
    paper's side alone), a row per :data:`QUANTITIES` (see docs/outputs.md)."""
    import pandas as pd

    paper = paper_per_beta(ref, n, tolerance)
    ref_betas, missing = np.array(sorted(paper)), (np.nan,) * 4
    cells = ref.set_index(["alpha", "beta"])["errors"]
    rows = []
    for r in risk.itertuples():
        ap, bp = match([r.alpha], ref["alpha"].unique(), tolerance)[0], match([r.beta], ref_betas, tolerance)[0]
        if np.isfinite(ap) and np.isfinite(bp):
            e = cells[(ap, bp)]
            rows.append(_row("risk", r.seed, r.beta, bp, (r.alpha, r.risk, r.risk_low, r.risk_high),
                             (ap, e / n, *cp(e, n)), r.n_test, n))
    ours = risk.set_index(["seed", "beta", "alpha"]).sort_index()
    pairs, seen = [], set()
    for s in star.itertuples():
        g = ours.loc[(s.seed, s.beta)]

        def cell(a, g=g):
            return tuple(g.loc[a, ["risk", "risk_low", "risk_high"]]) if a in g.index else NAN3

        near = float(g.index[np.argmin(np.abs(g.index.to_numpy(float) - s.beta))])
        mine = _side(s.alpha_star, raw_argmin(g.index, g["risk"]), near, cell,
                     (s.alpha_star_low, s.alpha_star_high))
        bp = match([s.beta], ref_betas, tolerance)[0]
        seen.add(bp)
        pairs.append((s.seed, s.beta, bp, mine, paper.get(bp, {}), g["n_test"].iloc[0], s.curve_method))
    pairs += [(np.nan, b, b, {}, paper[b], np.nan, "") for b in ref_betas if b not in seen]
    for seed, beta, bp, mine, theirs, n_ours, curve in pairs:
        notes = {"alpha_star": (f"ours: {curve} fit, low/high: the ends of its confidence set; " if curve
                                else "") + f"paper: Savitzky-Golay ({PAPER_WINDOW}, {PAPER_ORDER}) over the "
                 "positions of its alpha grid", "alpha_star_raw": "argmin of the measured risks"}
        if mine and round(abs(mine["risk_alpha_beta"][0] - beta), 10) >= tolerance:
            notes["risk_alpha_beta"] = f"no alpha = beta on our grid: read at alpha {mine['risk_alpha_beta'][0]:g}"
        if theirs and not np.isfinite(theirs["risk_alpha_beta"][0]):
            notes["risk_alpha_beta"] = "no alpha = beta on the paper's grid"
        rows += [_row(q, seed, beta, bp, mine.get(q, missing), theirs.get(q, missing), n_ours, n, notes.get(q, ""))
                 for q in QUANTITIES]
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("dataset", "tolerance", "level")])
    out = out.assign(seed=out["seed"].astype("Int64"), n_ours=out["n_ours"].astype("Int64"),
                     tolerance=tolerance, level=LEVEL)
    return out[[c for c in COLUMNS if c != "dataset"]]


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
