"""The statistics behind the paper's three MNIST claims, each with an interval and a verdict.

C1  the risk of h_0 (trained without noise) increases with the smoothing noise beta;
C2  the best training noise alpha*(beta) = argmin_alpha Delta(alpha, beta) increases with beta;
C3  at beta > 0 training at alpha = beta costs risk against alpha* (and alpha* < beta).

Input: per-image errors, columns ``alpha, beta, seed, index, error`` (error = 1 - correct). Within
a seed image i sees the same noise draws for every alpha and beta, so errors are paired across
(alpha, beta): every resampling below draws images, never single (alpha, beta) cells, and
keeps those pairs. Seeds are independent replicates of everything random (training of h_0 and
every h_alpha, noise draws).

Statistics (``statistic`` column):

* C1: least-squares slope over beta of the risk of alpha = 0, per seed.
* C2: least-squares slope over beta of alpha*(beta), alpha* chosen on all images of a seed by
  :func:`rsmooth.curves.best_indices` (Savitzky-Golay where the grid allows, else the
  least-squares valley: see rsmooth/curves.py), per seed.
* C3, one row per beta > 0 inside the alpha grid (alpha = beta read at the nearest grid alpha):
  the cross-fitted gap risk(alpha=beta) - risk(alpha*). Images are split by index parity;
  alpha* is chosen on the even half and the gap measured on the odd half, then the other way
  round, and the two gaps averaged. With >= 2 seeds, the alpha* used for seed s is moreover
  chosen on the mean curve of the *other* seeds (leave one seed out): each trained h_alpha has
  its own luck, and choosing alpha* on the models that then measure the gap rewards that luck
  (in a simulation with a flat mean curve and model-to-model risk s.d. 0.01, 3 seeds, 2,000
  images: per-seed cross-fitting averaged a gap of +0.0136, leave-one-seed-out +0.0003 +- 0.0002).
  The data that measure a gap never took part in choosing its alpha*, so there is no winner's
  curse: given the choice, the gap is unbiased for the true gap of the chosen alpha, which is
  at most the oracle gap Delta(beta, beta) - min_alpha Delta(alpha, beta). The estimate leans
  toward 0 (a "supported" needs real evidence) and ``low`` is a valid lower bound for the oracle
  gap. Choosing alpha* on all images and measuring on the same ones (the naive way) is biased
  upward: on a flat curve it is >= 0 every time. Cross-fitting (rather than only repeating the
  choice in a bootstrap) makes the estimate itself honest, at the price of choosing alpha* on
  half the images.

Intervals (``low``, ``high`` at ``level``), with S seeds:

* S = 1: estimate +- z * SE, SE the standard deviation of the statistic over ``n_boot``
  bootstrap resamples of the images (drawn within each half, so halves keep their sizes;
  every alpha* re-chosen inside each resample). The target is the statistic's expectation over
  test images and noise draws *for the one trained model of each alpha*, so a verdict other
  than undecided carries the suffix " (conditional on models)" -- for C1 too: h_0 was trained
  once, and the claim is about training without noise, not about this one network.
* S >= 2: mean of the per-seed statistics +- t(S-1) * SE, SE^2 = max(between-seed variance,
  mean within-seed bootstrap variance) / S. Seeds are the replicates, so the interval includes
  model-to-model variation; the within-seed floor keeps seeds that agree exactly (a coarse
  grid) from giving a zero-width interval. The target is the statistic's expectation over
  training runs and noise draws, on these test images.

Verdicts (``verdict``): "supported" when low > 0, "contradicted" when high < 0, else
"undecided" (also when the statistic cannot be computed; ``note`` says why), with the suffix
above for one seed. For C3 a gap interval above 0 while alpha* (on all images; with several
seeds, of the mean curve) is not below beta gives "undecided": alpha = beta is then beaten, but
by a larger alpha. Each row's interval stands alone; no correction for the number of rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["claim", "beta", "statistic", "estimate", "low", "high", "level", "n_seeds",
           "n_images", "method", "verdict", "note"]
SUPPORTED, CONTRADICTED, UNDECIDED = "supported", "contradicted", "undecided"
CONDITIONAL = " (conditional on models)"
VERDICTS = (SUPPORTED, CONTRADICTED, UNDECIDED, SUPPORTED + CONDITIONAL, CONTRADICTED + CONDITIONAL)
STATISTICS = {"C1": "slope of risk(alpha=0, beta) over beta",
              "C2": "slope of alpha*(beta) over beta",
              "C3": "gap = risk(alpha=beta) - risk(alpha*)"}
CHUNK = 256  # bootstrap resamples per matrix product (memory: CHUNK x images floats)


def errors_from_certs(per_image: pd.DataFrame) -> pd.DataFrame:
    """The errors table (alpha, beta, seed, index, error) of per-image certification rows."""
    out = per_image[["alpha", "beta", "seed", "index"]].copy()
    out["error"] = 1 - per_image["correct"].astype(int)
    return out


def _cubes(errors: pd.DataFrame):
    """Check the errors table; return (alphas, betas, {seed: (E[alpha, beta, image], index)})."""
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


def _slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row of y (..., len(x)) against x."""
    xc = x - x.mean()
    return (y - y.mean(axis=-1, keepdims=True)) @ xc / (xc @ xc)


class _Plan:
    """Which statistics exist on this grid and how alpha* is chosen."""

    def __init__(self, alphas, betas, window, order):
        from .curves import _method

        self.alphas, self.betas, self.window, self.order = alphas, betas, window, order
        self.curve = _method(alphas, window, order)
        self.zero = np.flatnonzero(alphas == 0)
        # C3 needs alpha = beta on the grid: a "nearest alpha" could be far from beta
        self.c3 = [(j, int(np.argmin(np.abs(alphas - b)))) for j, b in enumerate(betas)
                   if b > 0 and np.isclose(alphas, b, rtol=0, atol=1e-9).any()]

    def stars(self, r: np.ndarray) -> np.ndarray:
        """Index of alpha* for risks r (m, alphas) -> (m,)."""
        from .curves import best_indices

        return best_indices(self.alphas, r, self.window, self.order)[0]

    def gaps(self, sel_a, sel_b, ra, rb) -> np.ndarray:
        """Cross-fitted C3 gaps (m, len(c3)): alpha* chosen on ``sel_a`` (even half), the gap
        measured on ``rb`` (odd half), and the reverse; the two averaged. Arrays (m, alphas,
        betas); the selection arrays are the evaluation ones (one seed) or other seeds'."""
        rows = np.arange(len(ra))
        out = np.empty((len(ra), len(self.c3)))
        for col, (j, near) in enumerate(self.c3):
            sa, sb = self.stars(sel_a[:, :, j]), self.stars(sel_b[:, :, j])
            out[:, col] = 0.5 * ((rb[:, near, j] - rb[rows, sa, j]) + (ra[:, near, j] - ra[rows, sb, j]))
        return out

    def statistics(self, ra: np.ndarray, rb: np.ndarray, wa: float):
        """Half risks (m, alphas, betas) of one seed -> its C1, C2 and C3 statistics
        (m, 2 + len(c3)) and the indices of alpha* on all its images (m, betas)."""
        full = wa * ra + (1 - wa) * rb
        stars = np.stack([self.stars(full[:, :, j]) for j in range(len(self.betas))], axis=1)
        out = np.full((len(ra), 2 + len(self.c3)), np.nan)
        if len(self.betas) >= 2:
            if len(self.zero):
                out[:, 0] = _slope(self.betas, full[:, self.zero[0], :])
            out[:, 1] = _slope(self.betas, self.alphas[stars])
        out[:, 2:] = self.gaps(ra, rb, ra, rb)
        return out, stars


def _seed(e: np.ndarray, idx: np.ndarray, plan: _Plan, n_boot: int, rng) -> dict:
    """One seed: its statistics, their bootstrap variance over images (alpha* re-chosen in
    every resample), alpha* on all its images per beta, and its half and full risks."""
    a, b = e.shape[:2]
    even = idx % 2 == 0
    ea, eb = e[:, :, even].reshape(a * b, -1), e[:, :, ~even].reshape(a * b, -1)
    na, nb = ea.shape[1], eb.shape[1]
    ra0, rb0 = ea.mean(1, dtype=float).reshape(1, a, b), eb.mean(1, dtype=float).reshape(1, a, b)
    point, stars = plan.statistics(ra0, rb0, na / (na + nb))
    boot = []
    for start in range(0, n_boot, CHUNK):
        m = min(CHUNK, n_boot - start)
        wa, wb = (np.bincount((rng.integers(0, n, (m, n)) + n * np.arange(m)[:, None]).ravel(),
                              minlength=m * n).reshape(m, n).astype(np.float32) for n in (na, nb))
        ra = (wa @ ea.T).astype(float).reshape(m, a, b) / na
        rb = (wb @ eb.T).astype(float).reshape(m, a, b) / nb
        boot.append(plan.statistics(ra, rb, na / (na + nb))[0])
    return {"point": point[0], "var": np.concatenate(boot).var(axis=0, ddof=1), "stars": stars[0],
            "ra": ra0[0], "rb": rb0[0], "full": (na * ra0[0] + nb * rb0[0]) / (na + nb)}


def _leave_one_seed_out(plan: _Plan, seeds: list[dict]) -> np.ndarray:
    """C3 gaps (S, len(c3)): for seed s, alpha* chosen on the mean half-risk curves of the
    other seeds (even half, then odd), the gap measured on seed s (odd half, then even)."""
    ra, rb = np.array([d["ra"] for d in seeds]), np.array([d["rb"] for d in seeds])
    s = len(seeds)
    others = (np.ones((s, s)) - np.eye(s)) / (s - 1)  # row s averages the seeds other than s
    return plan.gaps(np.einsum("st,tab->sab", others, ra), np.einsum("st,tab->sab", others, rb), ra, rb)


def _verdict(low: float, high: float, one_seed: bool) -> str:
    word = SUPPORTED if low > 0 else CONTRADICTED if high < 0 else UNDECIDED
    return word + CONDITIONAL if one_seed and word != UNDECIDED else word


def _pairs(keys, values) -> str:
    return ", ".join(f"{k:g}: {v:.4g}" for k, v in zip(keys, values))


def decide_claims(errors: pd.DataFrame, window: int = 15, order: int = 3, level: float = 0.95,
                  n_boot: int = 2000, rng_seed: int = 0) -> pd.DataFrame:
    """Rows C1, C2 and one C3 row per beta > 0 within the alpha grid, columns :data:`COLUMNS`.

    Guarantees (reasoning in the module docstring): every alpha* behind a C3 gap was chosen on
    images (and, with >= 2 seeds, models) other than those that measure the gap; intervals are
    paired over images and noise draws and, with >= 2 seeds, include the variation between
    trained models; with one seed a verdict other than "undecided" ends in
    " (conditional on models)"; all randomness comes from ``np.random.default_rng(rng_seed)``,
    so equal inputs give equal outputs. ValueError for a malformed table (missing columns or
    cells, errors not 0/1, an (alpha, beta) missing or covering other images than the rest of
    its seed, only even or only odd indices) or a bad ``level`` / ``n_boot``.
    """
    from scipy.stats import norm, t

    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be >= 2, got {n_boot}")
    alphas, betas, cubes = _cubes(errors)
    plan = _Plan(alphas, betas, window, order)
    rng = np.random.default_rng(rng_seed)
    seeds = [_seed(e, idx, plan, n_boot, rng) for e, idx in cubes.values()]
    s = len(seeds)
    point = np.array([d["point"] for d in seeds])   # (S, statistics)
    within = np.array([d["var"] for d in seeds])    # (S, statistics)
    stars = alphas[np.array([d["stars"] for d in seeds])]  # (S, betas): alpha* per seed
    if s == 1:
        est, se, q = point[0], np.sqrt(within[0]), norm.ppf(0.5 + level / 2)
        how = f"normal, SE from {n_boot} bootstrap resamples of images (alpha* re-chosen in each)"
        mean_stars = stars[0]
    else:
        if plan.c3:
            point[:, 2:] = _leave_one_seed_out(plan, seeds)
        est = point.mean(axis=0)
        se = np.sqrt(np.maximum(point.var(axis=0, ddof=1), within.mean(axis=0)) / s)
        q = t.ppf(0.5 + level / 2, s - 1)
        how = (f"Student-t over {s} seeds, SE^2 = max(between-seed variance, mean within-seed "
               f"bootstrap variance ({n_boot} resamples)) / {s}")
        mean_full = np.mean([d["full"] for d in seeds], axis=0)
        mean_stars = alphas[[plan.stars(mean_full[None, :, j])[0] for j in range(len(betas))]]
    n_images = min(len(idx) for _, idx in cubes.values())
    each = "" if s == 1 else f" per seed {list(cubes)}"
    rows = []
    for k, claim in enumerate(["C1", "C2"] + ["C3"] * len(plan.c3)):
        low, high = est[k] - q * se[k], est[k] + q * se[k]
        ok = np.isfinite(est[k]) and np.isfinite(se[k])
        # a bootstrap that never moves the statistic gives no interval, not certainty
        degenerate = ok and se[k] == 0
        verdict = _verdict(low, high, s == 1) if ok and not degenerate else UNDECIDED
        beta = np.nan
        if claim == "C1":
            method = "least-squares slope; " + how
            note = ("needs alpha = 0 on the grid and >= 2 betas" if not ok else
                    "risk(alpha=0, beta)" + (" (mean over seeds)" if s > 1 else "") + ": "
                    + _pairs(betas, np.mean([d["full"][plan.zero[0]] for d in seeds], axis=0)))
        elif claim == "C2":
            method = f"least-squares slope, alpha* per seed by {plan.curve} curve; " + how
            note = ("needs >= 2 betas" if not ok else "alpha*(beta) on all images"
                    + (" (of the mean curve over seeds)" if s > 1 else "") + ": " + _pairs(betas, mean_stars))
        else:
            j, near = plan.c3[k - 2]
            beta = float(betas[j])
            where = "even/odd index" + (", alpha* from the other seeds" if s > 1 else "")
            method = f"cross-fit ({where}), alpha* by {plan.curve} curve; " + how
            note = (f"alpha = beta read at grid alpha {alphas[near]:g}; alpha* on all images: "
                    f"{mean_stars[j]:g}" + (" (mean curve over seeds), " + ", ".join(f"{a:g}" for a in stars[:, j])
                                            + each if s > 1 else ""))
            if verdict.startswith(SUPPORTED) and mean_stars[j] >= alphas[near]:
                verdict = UNDECIDED
                note += "; the gap is > 0 but alpha* is not below beta"
        if degenerate:
            note += "; no resample moved the statistic, so it has no interval (undecided)"
        if s == 1:
            note += "; 1 seed: about the models trained once, not the training procedure"
        rows.append({"claim": claim, "beta": beta, "statistic": STATISTICS[claim], "estimate": est[k],
                     "low": low, "high": high, "level": level, "n_seeds": s, "n_images": n_images,
                     "method": method, "verdict": verdict, "note": note})
    return pd.DataFrame(rows, columns=COLUMNS)


def claims_figure(claims: pd.DataFrame, title: str = ""):
    """A forest plot: one row per (claim, beta), the estimate and its interval, a line at 0;
    one panel per claim (their statistics have different units). Marker and colour show the
    verdict; hollow markers are verdicts conditional on the trained models (one seed). Draws
    only the table's numbers (no curves); rows without an estimate say so in text."""
    # No pyplot: no global figure state, no backend to choose.
    from matplotlib.figure import Figure

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
