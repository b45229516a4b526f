"""The one analysis of the error cube: alpha*(beta) with its interval, the fitted risk curves,
and the paper's three claims, each with an interval and a verdict (the method in full, with
its reasons and simulations: docs/statistics.md).

C1  the risk of h_0 (trained without noise) increases with the smoothing noise beta;
C2  the best training noise alpha*(beta) = argmin_alpha Delta(alpha, beta) increases with beta;
C3  at beta > 0 training at alpha = beta is beaten by a smaller alpha.

Input: per-image errors, columns ``alpha, beta, seed, index, error``: the cube
E[seed, alpha, beta, image]. Within a seed, image i sees the same noise draws for every alpha
and beta, so every resampling draws images, never single cells. Every output that reports
alpha*, a contrast or a gap (claims.csv, alpha_star.csv, the figures) reads it from here.

Statistics, per seed: C1 and C2 least-squares slopes over beta (of the risk of alpha = 0, of
alpha* chosen by :func:`rsmooth.curves.best_indices`); C3, primary and fixed before the run,
the contrast risk(alpha = beta) - risk(alpha = beta - delta), which chooses nothing; C3 gap,
secondary, risk(alpha = beta) - risk(alpha*) cross-fitted (alpha* chosen on the other half of
the images and, with >= 2 seeds, on the other seeds), a valid lower bound for the oracle gap.

Intervals at ``level``: one seed, estimate +- z SE, SE from ``n_boot`` bootstrap resamples of
the images (conditional on the seed's models: verdicts then end in " (conditional on
models)"); S >= 2 seeds, the mean +- t(S-1) SE, SE^2 = max(B / S + I, W / S) with B the
between-seed variance, W the mean within-seed bootstrap variance and I the images' sampling
noise common to the seeds (they are certified on the same images): with C the variance of the
seed mean over the same resamples for every seed, I = max(0, (S C - W) / (S - 1)).
Verdicts: "supported" when low > 0, "contradicted" when high < 0, else "undecided" (a gap > 0
while alpha* is not below beta is undecided too).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .analysis import error_cubes

COLUMNS = ["claim", "beta", "statistic", "estimate", "low", "high", "level", "n_seeds",
           "n_images", "method", "verdict", "note"]
SUPPORTED, CONTRADICTED, UNDECIDED = "supported", "contradicted", "undecided"
CONDITIONAL = " (conditional on models)"
VERDICTS = (SUPPORTED, CONTRADICTED, UNDECIDED, SUPPORTED + CONDITIONAL, CONTRADICTED + CONDITIONAL)
GAP = "C3 gap"
STATISTICS = {"C1": "slope of risk(alpha=0, beta) over beta",
              "C2": "slope of alpha*(beta) over beta",
              "C3": "contrast = risk(alpha=beta) - risk(alpha=beta-delta)",
              GAP: "gap = risk(alpha=beta) - risk(alpha*), cross-fitted"}
CHUNK = 256  # bootstrap resamples per matrix product (memory: CHUNK x images floats)


def _slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row of y (..., len(x)) against x."""
    xc = x - x.mean()
    return (y - y.mean(axis=-1, keepdims=True)) @ xc / (xc @ xc)


class _Plan:
    """Which statistics exist on this grid, how alpha* is chosen, and the statistics' layout:
    [C1, C2, one contrast per ``contrasts``, one gap per ``c3``]."""

    def __init__(self, alphas, betas, window, order, delta=None):
        from .curves import _method

        self.alphas, self.betas, self.window, self.order = alphas, betas, window, order
        self.curve = _method(alphas, window, order)
        self.zero = np.flatnonzero(alphas == 0)

        def on_grid(v):  # index of the grid alpha equal to v, or None
            k = np.flatnonzero(np.isclose(alphas, v, rtol=0, atol=1e-9))
            return int(k[0]) if len(k) else None

        # C3 needs alpha = beta on the grid: a "nearest alpha" could be far from beta
        self.c3 = [(j, on_grid(b)) for j, b in enumerate(betas) if b > 0 and on_grid(b) is not None]
        self.delta = delta
        # one contrast row per C3 beta; its partner alpha is None where the grid lacks it
        self.contrasts = [] if not delta else [(j, near, on_grid(betas[j] - delta)) for j, near in self.c3]
        self.first_gap = 2 + len(self.contrasts)

    def stars(self, r: np.ndarray) -> np.ndarray:
        """Index of alpha* for risks r (m, alphas) -> (m,)."""
        from .curves import best_indices

        return best_indices(self.alphas, r, self.window, self.order)[0]

    def gaps(self, sel_a, sel_b, ra, rb) -> np.ndarray:
        """Cross-fitted gaps (m, len(c3)): alpha* chosen on ``sel_a`` (even half), the gap
        measured on ``rb`` (odd half), and the reverse; the two averaged. Arrays (m, alphas,
        betas); the selection arrays are the evaluation ones (one seed) or other seeds'."""
        rows = np.arange(len(ra))
        out = np.empty((len(ra), len(self.c3)))
        for col, (j, near) in enumerate(self.c3):
            sa, sb = self.stars(sel_a[:, :, j]), self.stars(sel_b[:, :, j])
            out[:, col] = 0.5 * ((rb[:, near, j] - rb[rows, sa, j]) + (ra[:, near, j] - ra[rows, sb, j]))
        return out

    def statistics(self, ra: np.ndarray, rb: np.ndarray, wa: float):
        """Half risks (m, alphas, betas) of one seed -> its statistics (m, 2 + contrasts +
        gaps) and the indices of alpha* on all its images (m, betas)."""
        full = wa * ra + (1 - wa) * rb
        stars = np.stack([self.stars(full[:, :, j]) for j in range(len(self.betas))], axis=1)
        out = np.full((len(ra), self.first_gap + len(self.c3)), np.nan)
        if len(self.betas) >= 2:
            if len(self.zero):
                out[:, 0] = _slope(self.betas, full[:, self.zero[0], :])
            out[:, 1] = _slope(self.betas, self.alphas[stars])
        for col, (j, near, low) in enumerate(self.contrasts):
            if low is not None:
                out[:, 2 + col] = full[:, near, j] - full[:, low, j]
        out[:, self.first_gap:] = self.gaps(ra, rb, ra, rb)
        return out, stars


def _seed(e: np.ndarray, idx: np.ndarray, plan: _Plan, n_boot: int, rng) -> dict:
    """One seed: its statistics, their bootstrap variance over images (alpha* re-chosen in
    every resample), alpha* on all its images per beta and in every resample, its risks."""
    a, b = e.shape[:2]
    even = idx % 2 == 0
    ea, eb = e[:, :, even].reshape(a * b, -1), e[:, :, ~even].reshape(a * b, -1)
    na, nb = ea.shape[1], eb.shape[1]
    ra0, rb0 = ea.mean(1, dtype=float).reshape(1, a, b), eb.mean(1, dtype=float).reshape(1, a, b)
    point, stars = plan.statistics(ra0, rb0, na / (na + nb))
    boot, boot_stars = [], []
    for start in range(0, n_boot, CHUNK):
        m = min(CHUNK, n_boot - start)
        wa, wb = (np.bincount((rng.integers(0, n, (m, n)) + n * np.arange(m)[:, None]).ravel(),
                              minlength=m * n).reshape(m, n).astype(np.float32) for n in (na, nb))
        ra = (wa @ ea.T).astype(float).reshape(m, a, b) / na
        rb = (wb @ eb.T).astype(float).reshape(m, a, b) / nb
        stat, st = plan.statistics(ra, rb, na / (na + nb))
        boot.append(stat)
        boot_stars.append(st)
    boot = np.concatenate(boot)
    return {"point": point[0], "var": boot.var(axis=0, ddof=1), "boot": boot, "stars": stars[0],
            "boot_stars": np.concatenate(boot_stars), "ra": ra0[0], "rb": rb0[0],
            "full": (na * ra0[0] + nb * rb0[0]) / (na + nb), "n": na + nb}


def _leave_one_seed_out(plan: _Plan, seeds: list[dict]) -> np.ndarray:
    """Gaps (S, len(c3)): for seed s, alpha* chosen on the mean half-risk curves of the other
    seeds (even half, then odd), the gap measured on seed s (odd half, then even)."""
    ra, rb = np.array([d["ra"] for d in seeds]), np.array([d["rb"] for d in seeds])
    s = len(seeds)
    others = (np.ones((s, s)) - np.eye(s)) / (s - 1)  # row s averages the seeds other than s
    return plan.gaps(np.einsum("st,tab->sab", others, ra), np.einsum("st,tab->sab", others, rb), ra, rb)


def seeds_se(point: np.ndarray, within: np.ndarray, boot: np.ndarray, shared: bool):
    """The SE over S >= 2 seeds of the mean of per-seed statistics ``point`` (S, k), from their
    bootstrap variances ``within`` (S, k) and resamples ``boot`` (S, n_boot, k), the same
    resamples of the same images for every seed when ``shared``; and its parts B, W, I (module
    docstring): SE^2 = max(B / S + I, W / S)."""
    s = len(point)
    b, w = point.var(axis=0, ddof=1), within.mean(axis=0)
    c = boot.mean(axis=0).var(axis=0, ddof=1) if shared else w / s
    common = np.maximum(0.0, (s * c - w) / (s - 1))  # the images' noise shared by all seeds
    return np.sqrt(np.maximum(b / s + common, w / s)), b, w, common


def _verdict(low: float, high: float, one_seed: bool) -> str:
    word = SUPPORTED if low > 0 else CONTRADICTED if high < 0 else UNDECIDED
    return word + CONDITIONAL if one_seed and word != UNDECIDED else word


def _pairs(keys, values) -> str:
    return ", ".join(f"{k:g}: {v:.4g}" for k, v in zip(keys, values))


def claim_rows(plan: _Plan, est, se, q: float, level: float, n_seeds: int, n_images: int, describe,
               star_alphas, suffix: str = "") -> pd.DataFrame:
    """The claims table (:data:`COLUMNS`): one row per statistic of ``plan``, estimate +- ``q``
    * SE, its verdict (undecided where SE is missing or 0, and for a gap > 0 while
    ``star_alphas[beta]``, the alpha* behind it, is not below beta), with
    ``describe(claim, k, beta index, alpha = beta index, contrast alpha index)`` -> (method,
    note); ``suffix`` ends every note. Shared by the analysis of our cube and the replay of a
    reference table (rsmooth.reference.replay_claims)."""
    kinds = ["C1", "C2"] + ["C3"] * len(plan.contrasts) + [GAP] * len(plan.c3)
    rows = []
    for k, claim in enumerate(kinds):
        j, near, lo = (plan.contrasts[k - 2] if claim == "C3" else
                       (*plan.c3[k - plan.first_gap], None) if claim == GAP else (None, None, None))
        low, high = est[k] - q * se[k], est[k] + q * se[k]
        ok = np.isfinite(est[k]) and np.isfinite(se[k])
        degenerate = ok and se[k] == 0  # a resampling that never moves it: no interval, not certainty
        verdict = _verdict(low, high, n_seeds == 1) if ok and not degenerate else UNDECIDED
        method, note = describe(claim, k, j, near, lo)
        if claim == GAP and verdict.startswith(SUPPORTED) and star_alphas[j] >= plan.alphas[near]:
            verdict, note = UNDECIDED, note + "; the gap is > 0 but alpha* is not below beta"
        if degenerate:
            note += "; no resample moved the statistic, so it has no interval (undecided)"
        rows.append({"claim": claim, "beta": np.nan if j is None else float(plan.betas[j]),
                     "statistic": STATISTICS[claim], "estimate": est[k], "low": low, "high": high,
                     "level": level, "n_seeds": n_seeds, "n_images": n_images, "method": method,
                     "verdict": verdict, "note": note + suffix})
    return pd.DataFrame(rows, columns=COLUMNS)


@dataclass
class Analysis:
    """What :func:`analyze` computes: ``claims`` (:data:`COLUMNS`), ``alpha_star`` (per seed and
    beta), ``alpha_star_seeds`` (per beta, over seeds), ``curves`` (risks per seed, beta, alpha)."""

    claims: pd.DataFrame
    alpha_star: pd.DataFrame
    alpha_star_seeds: pd.DataFrame
    curves: pd.DataFrame


def analyze(errors: pd.DataFrame, window: int = 15, order: int = 3, level: float = 0.95,
            n_boot: int = 2000, rng_seed: int = 0, delta: float | None = None) -> Analysis:
    """Every statistic of the error cube, computed once (see the module docstring).

    Guarantees: every alpha* behind a gap was chosen on images (and, with >= 2 seeds, models)
    other than those that measure it; the contrast chooses nothing; intervals are paired over
    images and noise draws and, with >= 2 seeds, include the variation between trained models;
    with one seed a verdict other than "undecided" ends in " (conditional on models)"; the
    per-seed rows of ``alpha_star`` hold the very statistics whose mean over seeds is the
    claims' estimate; all randomness comes from generators seeded with ``rng_seed``, so equal
    inputs give equal outputs. ValueError for a malformed table (missing columns or cells,
    errors not 0/1, an (alpha, beta) missing or covering other images than the rest of its
    seed, only even or only odd indices) or a bad ``level`` / ``n_boot`` / ``delta``.
    """
    from scipy.stats import norm, t

    from .curves import fit_curves

    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be >= 2, got {n_boot}")
    if delta is not None and not delta > 0:
        raise ValueError(f"delta must be > 0 (or None: no contrast), got {delta}")
    alphas, betas, cubes = error_cubes(errors)
    plan = _Plan(alphas, betas, window, order, delta)
    # seeds certified on the same images get the same resamples of them (one generator state)
    shared = len({idx.tobytes() for _, idx in cubes.values()}) == 1
    seeds = [_seed(e, idx, plan, n_boot, np.random.default_rng([rng_seed] if shared else [rng_seed, k]))
             for k, (e, idx) in enumerate(cubes.values())]
    s, z = len(seeds), norm.ppf(0.5 + level / 2)
    point = np.array([d["point"] for d in seeds])   # (S, statistics): the per-seed statistics
    within = np.array([d["var"] for d in seeds])    # (S, statistics)
    stars = alphas[np.array([d["stars"] for d in seeds])]  # (S, betas): alpha* per seed
    if s > 1 and plan.c3:
        point[:, plan.first_gap:] = _leave_one_seed_out(plan, seeds)
    if s == 1:
        est, se, q = point[0], np.sqrt(within[0]), z
        how = f"normal, SE from {n_boot} bootstrap resamples of images (alpha* re-chosen in each)"
        mean_full = seeds[0]["full"]
    else:
        est = point.mean(axis=0)
        se = seeds_se(point, within, np.array([d["boot"] for d in seeds]), shared)[0]
        q = t.ppf(0.5 + level / 2, s - 1)
        how = (f"Student-t over {s} seeds, SE^2 = max(between-seed variance / {s}"
               + (" + the images' noise common to the seeds (same bootstrap resamples for every seed)"
                  if shared else "") + f", mean within-seed bootstrap variance / {s}; {n_boot} resamples)")
        mean_full = np.mean([d["full"] for d in seeds], axis=0)
    mean_stars = alphas[[plan.stars(mean_full[None, :, j])[0] for j in range(len(betas))]]
    n_images = min(len(idx) for _, idx in cubes.values())
    each = "" if s == 1 else f" per seed {list(cubes)}"
    def describe(claim, k, j, near, lo):
        if claim == "C1":
            return "least-squares slope; " + how, (
                "needs alpha = 0 on the grid and >= 2 betas" if not np.isfinite(est[k]) else
                "risk(alpha=0, beta)" + (" (mean over seeds)" if s > 1 else "") + ": "
                + _pairs(betas, mean_full[plan.zero[0]]))
        if claim == "C2":
            return f"least-squares slope, alpha* per seed by {plan.curve} curve; " + how, (
                "needs >= 2 betas" if not np.isfinite(est[k]) else "alpha*(beta) on all images"
                + (" (of the mean curve over seeds)" if s > 1 else "") + ": " + _pairs(betas, mean_stars))
        if claim == "C3":
            return f"contrast fixed before the run (delta = {delta:g}), paired over images; " + how, (
                f"alpha = beta - delta = {betas[j] - delta:g} is not on the alpha grid: no contrast" if lo is None
                else f"risk(alpha={alphas[near]:g}) - risk(alpha={alphas[lo]:g}); > 0: alpha = beta is "
                f"beaten by alpha = beta - {delta:g}" + (f"; per seed: {_pairs(list(cubes), point[:, k])}"
                                                      if s > 1 else ""))
        where = "even/odd index" + (", alpha* from the other seeds" if s > 1 else "")
        return f"cross-fit ({where}), alpha* by {plan.curve} curve; " + how, (
            f"secondary to the contrast; alpha* on all images: {mean_stars[j]:g}"
            + (" (mean curve over seeds), " + ", ".join(f"{a:g}" for a in stars[:, j]) + each if s > 1 else ""))

    suffix = "; 1 seed: about the models trained once, not the training procedure" if s == 1 else ""
    claims = claim_rows(plan, est, se, q, level, s, n_images, describe, mean_stars, suffix)

    # Per seed and beta: alpha* with its bootstrap interval, the risks the claims read, and the
    # seed's own contrast and gap (the statistics averaged above) with within-seed intervals.
    a_lo, a_hi = (1 - level) / 2, (1 + level) / 2
    fitted = [fit_curves(alphas, d["full"].T, window, order) for d in seeds]  # (betas, alphas)
    col = {j: (2 + c, lo) for c, (j, _, lo) in enumerate(plan.contrasts)}
    gap = {j: plan.first_gap + c for c, (j, _) in enumerate(plan.c3)}
    near = dict(plan.c3)
    per_seed, curves = [], []
    for si, (seed, d) in enumerate(zip(cubes, seeds)):
        for j, beta in enumerate(betas):
            k = d["stars"][j]
            boot = alphas[d["boot_stars"][:, j]]
            row = {"seed": seed, "beta": beta, "alpha_star": alphas[k],
                   "alpha_star_low": np.quantile(boot, a_lo, method="lower"),
                   "alpha_star_high": np.quantile(boot, a_hi, method="higher"),
                   "risk_fitted_at_star": fitted[si][0][j, k], "risk_at_star": d["full"][k, j],
                   "risk_alpha0": d["full"][plan.zero[0], j] if len(plan.zero) else np.nan,
                   "risk_alpha_beta": d["full"][near[j], j] if j in near else np.nan,
                   "curve_method": fitted[si][1], "n_images": d["n"]}
            for name, c in (("contrast", col.get(j, (None,))[0]), ("gap", gap.get(j))):
                v, h = (point[si, c], z * np.sqrt(within[si, c])) if c is not None else (np.nan, np.nan)
                row.update({name: v, f"{name}_low": v - h, f"{name}_high": v + h})
            row["contrast_alpha"] = alphas[col[j][1]] if col.get(j, (0, None))[1] is not None else np.nan
            per_seed.append(row)
            curves += [{"seed": seed, "beta": beta, "alpha": a, "risk": d["full"][i, j],
                        "risk_fitted": fitted[si][0][j, i], "curve_method": fitted[si][1],
                        "n_images": d["n"]} for i, a in enumerate(alphas)]
    star = pd.DataFrame(per_seed)
    g = star.groupby("beta")["alpha_star"]
    spread = g.agg(n_seeds="size", alpha_star_mean="mean", alpha_star_std="std",
                   alpha_star_min="min", alpha_star_max="max").reset_index()
    half = t.ppf(0.5 + level / 2, max(s - 1, 1)) * spread["alpha_star_std"] / np.sqrt(s)
    spread["alpha_star_low"] = (spread["alpha_star_mean"] - half) if s > 1 else star["alpha_star_low"].to_numpy()
    spread["alpha_star_high"] = (spread["alpha_star_mean"] + half) if s > 1 else star["alpha_star_high"].to_numpy()
    spread["alpha_star_of_mean_curve"] = mean_stars
    spread["contrast_mean"] = star.groupby("beta")["contrast"].mean().to_numpy()
    spread["gap_mean"] = star.groupby("beta")["gap"].mean().to_numpy()
    return Analysis(claims, star, spread, pd.DataFrame(curves))
