"""The one analysis of the error cube: alpha*(beta) with its confidence set, the fitted risk
curves, and the paper's three claims, each with an interval and a verdict (the method in full,
with its reasons and simulations: docs/statistics.md).

C1  the risk of h_0 (trained without noise) increases with the smoothing noise beta;
C2  the best training noise alpha*(beta) = argmin_alpha Delta(alpha, beta) increases with beta;
C3  at beta > 0 training at alpha = beta is beaten by a smaller alpha.

Input: per-image errors, columns ``alpha, beta, seed, index, error``: the cube
E[seed, alpha, beta, image]. Within a seed, image i sees the same noise draws for every alpha
and beta, so every resampling draws images, never single cells. Every output that reports
alpha*, a contrast or a gap (claims.csv, alpha_star.csv, the figures) reads it from here.

How :func:`analyze` proceeds, one function a step:

1. :class:`Grid`: which statistics the alpha x beta grid allows (C1, C2 slopes; one C3
   contrast per beta > 0 with alpha = beta and alpha = beta - delta on the grid; one C3 gap per
   beta > 0 with alpha = beta on the grid).
2. :func:`resample_seed`: per seed, the statistics on all images and in ``n_boot`` bootstrap
   resamples of the images (:func:`bootstrap_counts`; alpha* re-chosen in each), and the risks
   in every resample.
3. :func:`pool` (:func:`pool_variances`): per statistic, estimate, SE, degrees of freedom and
   interval: one seed, the bootstrap SE and a normal quantile (conditional on the seed's
   models); S >= 2 seeds, the mean over seeds, SE^2 = max(B / S + I, W / S) (:func:`seeds_se`) and a Student-t quantile
   with Welch-Satterthwaite degrees of freedom (:func:`welch_df`).
4. :func:`alpha_star_set`: per beta, the confidence set of the argmin over the grid (the
   alphas not shown worse than another one; pairwise differences pooled as in 3, Bonferroni over
   the k - 1 comparisons of each alpha), and the intervals of every pairwise difference.
5. :func:`claim_rows`: the verdicts. C1, C2: "supported" when low > 0, "contradicted" when
   high < 0. C3 per beta > 0 (rule in :func:`c3_verdict`): "supported" when the contrast fixed
   before the run is shown > 0; "contradicted" only when every smaller grid alpha is shown
   worse than alpha = beta (an intersection-union test); else "undecided", the note saying
   what was missing. Secondary rows: the alpha* set against beta (supported when it lies below
   beta, contradicted when at or above it) and the cross-fitted gap (supported or undecided).
   One seed: verdicts other than undecided end in " (conditional on models)".
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
GAP, SET = "C3 gap", "C3 set"
STATISTICS = {"C1": "slope of risk(alpha=0, beta) over beta",
              "C2": "slope of alpha*(beta) over beta",
              "C3": "contrast = risk(alpha=beta) - risk(alpha=beta-delta)",
              GAP: "gap = risk(alpha=beta) - risk(alpha*), cross-fitted",
              SET: "beta - alpha*, interval: the alpha* confidence set"}
CHUNK = 256  # bootstrap resamples per matrix product (memory: CHUNK x images floats)


# --- 1. The grid ----------------------------------------------------------------------------

def _slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row of y (..., len(x)) against x."""
    xc = x - x.mean()
    return (y - y.mean(axis=-1, keepdims=True)) @ xc / (xc @ xc)


class Grid:
    """Which statistics exist on an alpha x beta grid, how alpha* is chosen, and the layout of
    the statistics vector: [C1, C2, one contrast per ``contrasts``, one gap per ``c3``].

    ``c3``: (beta index, index of alpha = beta) for every beta > 0 with alpha = beta on the grid
    (a "nearest alpha" could be far from beta). ``contrasts``: (beta index, alpha = beta index,
    alpha = beta - delta index or None), one per ``c3`` entry when ``delta`` is given.
    ``window``/``order``: the Savitzky-Golay settings of :mod:`rsmooth.curves`.
    """

    def __init__(self, alphas, betas, window: int, order: int, delta: float | None = None):
        from .curves import _method

        self.alphas, self.betas = np.asarray(alphas, float), np.asarray(betas, float)
        self.window, self.order, self.delta = window, order, delta
        self.curve = _method(self.alphas, window, order)
        self.zero = np.flatnonzero(self.alphas == 0)
        self.c3 = [(j, self.on_grid(b)) for j, b in enumerate(self.betas)
                   if b > 0 and self.on_grid(b) is not None]
        self.contrasts = [] if not delta else [(j, at, self.on_grid(self.betas[j] - delta)) for j, at in self.c3]
        self.first_gap = 2 + len(self.contrasts)
        self.size = self.first_gap + len(self.c3)

    def on_grid(self, value: float) -> int | None:
        """Index of the grid alpha equal to ``value`` (within 1e-9), or None."""
        k = np.flatnonzero(np.isclose(self.alphas, value, rtol=0, atol=1e-9))
        return int(k[0]) if len(k) else None

    def stars(self, risks: np.ndarray) -> np.ndarray:
        """Index of alpha* (the fitted curve's argmin, :func:`rsmooth.curves.best_indices`) for
        risks (m, alphas) -> (m,)."""
        from .curves import best_indices

        return best_indices(self.alphas, risks, self.window, self.order)[0]

    def gaps(self, choose_a, choose_b, measure_a, measure_b) -> np.ndarray:
        """Cross-fitted gaps (m, len(c3)): alpha* chosen on ``choose_a`` and the gap measured on
        ``measure_b``, then the other way round; the two averaged. Arrays (m, alphas, betas):
        the two halves of one seed's images, or the other seeds' mean curves to choose on."""
        rows = np.arange(len(measure_a))
        out = np.empty((len(measure_a), len(self.c3)))
        for col, (j, at) in enumerate(self.c3):
            sa, sb = self.stars(choose_a[:, :, j]), self.stars(choose_b[:, :, j])
            out[:, col] = 0.5 * ((measure_b[:, at, j] - measure_b[rows, sa, j])
                                 + (measure_a[:, at, j] - measure_a[rows, sb, j]))
        return out

    def statistics(self, even: np.ndarray, odd: np.ndarray, even_share: float):
        """Risks of one seed's even- and odd-index images (m, alphas, betas), the even images'
        share of all -> its statistics (m, size) and alpha* on all its images (m, betas)."""
        full = even_share * even + (1 - even_share) * odd
        stars = np.stack([self.stars(full[:, :, j]) for j in range(len(self.betas))], axis=1)
        out = np.full((len(even), self.size), np.nan)
        if len(self.betas) >= 2:
            if len(self.zero):
                out[:, 0] = _slope(self.betas, full[:, self.zero[0], :])
            out[:, 1] = _slope(self.betas, self.alphas[stars])
        for col, (j, at, low) in enumerate(self.contrasts):
            if low is not None:
                out[:, 2 + col] = full[:, at, j] - full[:, low, j]
        out[:, self.first_gap:] = self.gaps(even, odd, even, odd)
        return out, stars


# --- 2. One seed, resampled -----------------------------------------------------------------

@dataclass
class SeedDraws:
    """One seed's statistics and risks, on all its images and in every bootstrap resample."""

    point: np.ndarray       # (statistics,) on all images
    boot: np.ndarray        # (n_boot, statistics)
    risk: np.ndarray        # (alphas, betas) on all images
    boot_risk: np.ndarray   # (n_boot, alphas, betas)
    stars: np.ndarray       # (betas,) index of alpha* on all images
    boot_stars: np.ndarray  # (n_boot, betas)
    risk_even: np.ndarray   # (alphas, betas) on the even-index images
    risk_odd: np.ndarray    # (alphas, betas) on the odd-index images
    n: int                  # images


def bootstrap_counts(rng, sizes: tuple[int, int], n_boot: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_boot`` bootstrap resamples of images drawn within each half (even / odd index, of
    ``sizes``), so the halves keep their sizes: for each chunk of at most :data:`CHUNK`
    resamples, how often each image of each half is drawn (chunk, half size), float32. Equal
    generator states give equal resamples: seeds certified on the same images share them."""
    out = []
    for start in range(0, n_boot, CHUNK):
        m = min(CHUNK, n_boot - start)
        out.append(tuple(_counts(rng, m, n) for n in sizes))
    return out


def _counts(rng, m: int, n: int) -> np.ndarray:
    """How often each of n images is drawn in each of m resamples with replacement (m, n)."""
    draws = rng.integers(0, n, (m, n)) + n * np.arange(m)[:, None]
    return np.bincount(draws.ravel(), minlength=m * n).reshape(m, n).astype(np.float32)


def halves(idx: np.ndarray) -> tuple[int, int]:
    """The number of even- and odd-index images."""
    even = int((idx % 2 == 0).sum())
    return even, len(idx) - even


def resample_seed(e: np.ndarray, idx: np.ndarray, grid: Grid, counts) -> SeedDraws:
    """One seed's errors e[alpha, beta, image] (images ``idx``): its statistics on all images and
    in every bootstrap resample of :func:`bootstrap_counts` ``counts`` (made for
    :func:`halves` of ``idx``); every alpha* is re-chosen inside each resample."""
    a, b = e.shape[:2]
    is_even = idx % 2 == 0
    parts = [e[:, :, is_even].reshape(a * b, -1), e[:, :, ~is_even].reshape(a * b, -1)]
    sizes = [h.shape[1] for h in parts]
    share = sizes[0] / sum(sizes)
    even, odd = (h.mean(1, dtype=float).reshape(1, a, b) for h in parts)
    point, stars = grid.statistics(even, odd, share)
    boot, boot_stars, boot_risk = [], [], []
    for chunk in counts:
        m = len(chunk[0])
        r_even, r_odd = ((w @ h.T).astype(float).reshape(m, a, b) / n for w, h, n in zip(chunk, parts, sizes))
        stat, st = grid.statistics(r_even, r_odd, share)
        boot.append(stat)
        boot_stars.append(st)
        boot_risk.append(share * r_even + (1 - share) * r_odd)
    return SeedDraws(point[0], np.concatenate(boot), share * even[0] + (1 - share) * odd[0],
                     np.concatenate(boot_risk), stars[0], np.concatenate(boot_stars), even[0], odd[0],
                     sum(sizes))


def leave_one_seed_out(grid: Grid, seeds: list[SeedDraws]) -> np.ndarray:
    """Gaps (S, len(c3)): for seed s, alpha* chosen on the mean half-risk curves of the other
    seeds (even half, then odd), the gap measured on seed s (odd half, then even)."""
    even, odd = np.array([d.risk_even for d in seeds]), np.array([d.risk_odd for d in seeds])
    s = len(seeds)
    others = (np.ones((s, s)) - np.eye(s)) / (s - 1)  # row s averages the seeds other than s
    return grid.gaps(np.einsum("st,tab->sab", others, even), np.einsum("st,tab->sab", others, odd), even, odd)


# --- 3. Pooling seeds: estimate, SE, degrees of freedom, interval ------------------------------

def seeds_se(point: np.ndarray, within: np.ndarray, mean_var: np.ndarray | None):
    """The SE over S >= 2 seeds of the mean of per-seed statistics ``point`` (S, k), from their
    bootstrap variances ``within`` (S, k) and ``mean_var`` (k,), the variance of the seed mean
    over the same resamples of the same images for every seed (None where the seeds' images
    differ); and its parts: B the between-seed variance, W the mean within-seed variance, I the
    images' noise common to the seeds. SE^2 = max(B / S + I, W / S), I = max(0, (S C - W) /
    (S - 1)) with C = ``mean_var`` (I = 0 when the seeds' images differ)."""
    s = len(point)
    b, w = point.var(axis=0, ddof=1), within.mean(axis=0)
    c = w / s if mean_var is None else mean_var
    common = np.maximum(0.0, (s * c - w) / (s - 1))
    return np.sqrt(np.maximum(b / s + common, w / s)), b, w, common


def welch_df(b, common, s: int, n_images: int) -> np.ndarray:
    """Welch-Satterthwaite degrees of freedom of B / S + I (:func:`seeds_se`): B, a variance over
    S seeds, has S - 1; the image term I, estimated from n_images resampled images, is given
    n_images - 1. The same df serves where the floor W / S is the larger SE^2: the floor guards
    against seeds that agree by chance, and the SE's uncertainty is still B's. Without image
    noise common to the seeds (I = 0) it is S - 1, the plain Student-t over seeds."""
    b, common = np.asarray(b, float), np.asarray(common, float)
    between = b / s
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (between + common) ** 2 / (between ** 2 / (s - 1) + common ** 2 / max(n_images - 1, 1))
    return np.where(np.isfinite(df), df, float(s - 1))


@dataclass
class Pooled:
    """Per statistic: estimate, SE, degrees of freedom (inf: normal), the two-sided interval at
    ``level`` and a description of how it was computed."""

    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    low: np.ndarray
    high: np.ndarray
    how: str

    def quantile(self, tail: float) -> np.ndarray:
        """The upper ``tail`` quantile of each statistic's reference distribution."""
        from scipy.stats import norm, t

        return np.where(np.isinf(self.df), norm.isf(tail), t.isf(tail, np.where(np.isinf(self.df), 1, self.df)))


def pool(point: np.ndarray, boot: np.ndarray, shared: bool, n_images: int, level: float) -> Pooled:
    """Statistics of S seeds ``point`` (S, k) with their bootstrap resamples ``boot`` (S, n_boot,
    k) -> :class:`Pooled` (:func:`pool_variances` on the resamples' variances)."""
    within = boot.var(axis=1, ddof=1)
    mean_var = boot.mean(axis=0).var(axis=0, ddof=1) if shared and len(point) > 1 else None
    return pool_variances(point, within, mean_var, boot.shape[1], n_images, level)


def pool_variances(point: np.ndarray, within: np.ndarray, mean_var, n_boot: int, n_images: int,
                   level: float) -> Pooled:
    """Statistics of S seeds ``point`` (S, k), their bootstrap variances ``within`` (S, k) and
    ``mean_var`` (:func:`seeds_se`) -> :class:`Pooled`. One seed: the statistic +- z SE, SE its
    bootstrap standard deviation (about that seed's models). S >= 2: the mean over seeds +-
    t(df) SE, SE from :func:`seeds_se`, df from :func:`welch_df` (about the training procedure)."""
    s = len(point)
    if s == 1:
        est, se, df = point[0], np.sqrt(within[0]), np.full(point.shape[1], np.inf)
        how = f"normal, SE from {n_boot} bootstrap resamples of images"
    else:
        est = point.mean(axis=0)
        se, b, w, common = seeds_se(point, within, mean_var)
        df = welch_df(b, common, s, n_images)
        how = (f"Student-t over {s} seeds, SE^2 = max(between-seed variance / {s}"
               + (" + the images' noise common to the seeds" if mean_var is not None else "")
               + f", mean within-seed bootstrap variance / {s}), Welch-Satterthwaite df; "
               f"{n_boot} bootstrap resamples of images")
    out = Pooled(est, se, df, est, est, how)
    q = out.quantile((1 - level) / 2)
    out.low, out.high = est - q * se, est + q * se
    return out


# --- 4. The alpha* confidence set ---------------------------------------------------------------

@dataclass
class AlphaSet:
    """At one beta: which grid alphas are in the confidence set of the argmin, and the pooled
    pairwise differences risk(alpha_a) - risk(alpha_b) with their intervals (a, a)."""

    member: np.ndarray  # (alphas,) bool
    diff: Pooled        # (alphas * alphas,) flattened, row a, column b


def alpha_star_set(risk: np.ndarray, boot_risk: np.ndarray, shared: bool, n_images: int,
                   level: float) -> AlphaSet:
    """The confidence set for argmin_alpha risk(alpha) over the grid at one beta, from per-seed
    risks ``risk`` (S, alphas) and their resamples ``boot_risk`` (S, n_boot, alphas): every
    alpha a not shown worse than another alpha b, i.e. risk(a) - risk(b) - c SE_ab <= 0 for all
    b, with the pairwise differences pooled by :func:`pool_variances` (the claims' SE and df;
    their variances from the resamples' covariances, which equal the differences' own) and c
    the one-sided quantile at (1 - level) / (k - 1) (Bonferroni over the k - 1 comparisons of
    the true argmin: multiple comparisons with the best). Guarantee: the set holds the true
    argmin with probability >= ``level`` (up to the SE's approximation), and is never empty:
    the alpha of least estimated risk is always in it."""
    s, n_boot, k = boot_risk.shape

    def pair_var(cov):  # var(r_a - r_b) = C_aa + C_bb - 2 C_ab, flattened (..., k * k)
        d = np.diagonal(cov, axis1=-2, axis2=-1)
        return np.maximum(d[..., :, None] + d[..., None, :] - 2 * cov, 0.0).reshape(*cov.shape[:-2], k * k)

    centred = boot_risk - boot_risk.mean(axis=1, keepdims=True)
    within = pair_var(np.einsum("sma,smb->sab", centred, centred) / (n_boot - 1))
    mean_var = None
    if shared and s > 1:
        m = centred.mean(axis=0)
        mean_var = pair_var(m.T @ m / (n_boot - 1))
    point = (risk[:, :, None] - risk[:, None, :]).reshape(s, k * k)
    diff = pool_variances(point, within, mean_var, n_boot, n_images, level)
    if k == 1:
        return AlphaSet(np.ones(1, bool), diff)
    c = diff.quantile((1 - level) / (k - 1))
    shown_worse = (diff.estimate - c * diff.se > 0).reshape(k, k)
    np.fill_diagonal(shown_worse, False)
    return AlphaSet(~shown_worse.any(axis=1), diff)


def _set_text(alphas: np.ndarray, member: np.ndarray) -> str:
    return " ".join(f"{a:g}" for a in alphas[member])


# --- 5. Verdicts ----------------------------------------------------------------------------------

def _verdict(low: float, high: float, one_seed: bool, can_contradict: bool = True) -> str:
    word = SUPPORTED if low > 0 else CONTRADICTED if can_contradict and high < 0 else UNDECIDED
    return word + CONDITIONAL if one_seed and word != UNDECIDED else word


def smaller_alphas_worse(grid: Grid, sets: dict, j: int, at: int) -> tuple[bool, str]:
    """The intersection-union test against C3 at beta index ``j``: is every grid alpha below
    alpha = beta (index ``at``) shown worse than alpha = beta, each by its own interval at the
    claims' level (low of risk(a) - risk(beta) > 0)? No multiplicity correction is needed: the
    negation of C3 holds only if every one of them does. Returns (shown, a note)."""
    smaller = np.flatnonzero(grid.alphas < grid.alphas[at])
    if not len(smaller):
        return False, "no smaller alpha on the grid"
    k = len(grid.alphas)
    lows = sets[j].diff.low[smaller * k + at]
    worst = smaller[np.argmin(lows)]
    return bool((lows > 0).all()), (
        f"every smaller alpha of the grid shown worse than alpha = beta (lowest bound {lows.min():.4g} at "
        f"alpha {grid.alphas[worst]:g})" if (lows > 0).all() else
        f"alpha {grid.alphas[worst]:g} not shown worse than alpha = beta (bound {lows.min():.4g})")


def c3_verdict(contrast_low: float, contrast_high: float, iut: tuple[bool, str], one_seed: bool):
    """C3 at one beta: "supported" when the contrast's interval lies above 0; "contradicted"
    when every smaller alpha is shown worse (:func:`smaller_alphas_worse`); else "undecided".
    A negative contrast alone is undecided: it shows only that alpha = beta - delta is worse.
    Returns (verdict, what the note adds)."""
    shown, why = iut
    if contrast_low > 0:
        return _verdict(contrast_low, contrast_high, one_seed), ""
    if shown:
        return CONTRADICTED + (CONDITIONAL if one_seed else ""), "contradicted: " + why
    if contrast_high < 0:
        return UNDECIDED, "undecided: alpha = beta - delta is worse; smaller alphas not excluded (" + why + ")"
    if not np.isfinite(contrast_low):
        return UNDECIDED, "undecided: no contrast; " + why
    return UNDECIDED, "undecided: the contrast's interval holds 0; " + why


def _pairs(keys, values) -> str:
    return ", ".join(f"{k:g}: {v:.4g}" for k, v in zip(keys, values))


def claim_rows(grid: Grid, pooled: Pooled, sets: dict, star_alphas: np.ndarray, level: float,
               n_seeds: int, n_images: int, notes: dict, methods: dict, suffix: str = "",
               gap_decides: bool = True) -> pd.DataFrame:
    """The claims table (:data:`COLUMNS`): C1, C2, one C3 contrast row per contrast, one C3 gap
    and one C3 set row per beta > 0 with alpha = beta on the grid. ``pooled``: the statistics
    (:class:`Grid` layout); ``sets``: {beta index: :class:`AlphaSet`}; ``star_alphas``: alpha*
    per beta (of the mean curve); ``notes``/``methods``: {(claim, beta index or None): text},
    the caller's descriptions; ``suffix`` ends every note; ``gap_decides`` False: every gap row
    is undecided (its note says why). Shared by the analysis of our cube and the replay of a
    reference table (rsmooth.reference.replay_claims)."""
    one = n_seeds == 1
    rows = []

    def add(claim, j, est, low, high, verdict, note, method, family):
        beta = np.nan if j is None else float(grid.betas[j])
        tag = (f"family C3 at beta {beta:g}, {family}; " if claim.startswith("C3") else "")
        rows.append({"claim": claim, "beta": beta, "statistic": STATISTICS[claim], "estimate": est,
                     "low": low, "high": high, "level": level, "n_seeds": n_seeds, "n_images": n_images,
                     "method": method, "verdict": verdict, "note": tag + note + suffix})

    def checked(k, verdict, note):
        """Undecided where the statistic is missing or no resample moved it."""
        if not (np.isfinite(pooled.estimate[k]) and np.isfinite(pooled.se[k])):
            return UNDECIDED, note
        if pooled.se[k] == 0:
            return UNDECIDED, note + "; no resample moved the statistic, so it has no interval (undecided)"
        return verdict, note

    for k, claim in enumerate(("C1", "C2")):
        v, note = checked(k, _verdict(pooled.low[k], pooled.high[k], one), notes[(claim, None)])
        add(claim, None, pooled.estimate[k], pooled.low[k], pooled.high[k], v, note,
            methods[(claim, None)] + _df(pooled, k), "")
    for col, (j, at, lo) in enumerate(grid.contrasts):
        k = 2 + col
        verdict, why = c3_verdict(pooled.low[k], pooled.high[k], smaller_alphas_worse(grid, sets, j, at), one)
        v, note = checked(k, verdict, notes[("C3", j)] + ("; " + why if why else ""))
        if lo is None and verdict.startswith(CONTRADICTED):
            v = verdict  # the intersection-union test needs no contrast
        add("C3", j, pooled.estimate[k], pooled.low[k], pooled.high[k], v, note,
            methods[("C3", j)] + _df(pooled, k), "primary")
    for col, (j, at) in enumerate(grid.c3):
        k = grid.first_gap + col
        verdict = _verdict(pooled.low[k], pooled.high[k], one, can_contradict=False)
        note = notes[(GAP, j)]
        if verdict.startswith(SUPPORTED) and star_alphas[j] >= grid.alphas[at]:
            verdict, note = UNDECIDED, note + "; the gap is > 0 but alpha* is not below beta"
        if pooled.high[k] < 0:
            note += "; < 0: the alpha* chosen elsewhere is worse here, which does not contradict C3"
        v, note = checked(k, verdict if gap_decides else UNDECIDED, note)
        add(GAP, j, pooled.estimate[k], pooled.low[k], pooled.high[k], v, note,
            methods[(GAP, j)] + _df(pooled, k), "secondary (repeats the contrast's evidence)")
    for j, at in grid.c3:
        member, beta = sets[j].member, grid.alphas[at]
        inside = grid.alphas[member]
        low, high = beta - inside.max(), beta - inside.min()
        verdict = (SUPPORTED if low > 0 else CONTRADICTED if high <= 0 else UNDECIDED)
        verdict += CONDITIONAL if one and verdict != UNDECIDED else ""
        note = notes[(SET, j)] + f"; alpha* set {{{_set_text(grid.alphas, member)}}}"
        if not member[np.flatnonzero(np.isclose(grid.alphas, star_alphas[j]))].any():
            note += f"; alpha* of the curve fit ({star_alphas[j]:g}) lies outside the set"
        add(SET, j, beta - star_alphas[j], low, high, verdict, note, methods[(SET, j)], "secondary")
    return pd.DataFrame(rows, columns=COLUMNS)


def _df(pooled: Pooled, k: int) -> str:
    df = pooled.df[k]
    return "" if np.isinf(df) or not np.isfinite(pooled.se[k]) else f"; df {df:.1f}"


# --- The analysis -----------------------------------------------------------------------------------

@dataclass
class Analysis:
    """What :func:`analyze` computes: ``claims`` (:data:`COLUMNS`), ``alpha_star`` (per seed and
    beta), ``alpha_star_seeds`` (per beta, over seeds), ``curves`` (risks per seed, beta, alpha)."""

    claims: pd.DataFrame
    alpha_star: pd.DataFrame
    alpha_star_seeds: pd.DataFrame
    curves: pd.DataFrame


def analyze(errors: pd.DataFrame, *, window: int, order: int, level: float, n_boot: int,
            rng_seed: int, delta: float | None) -> Analysis:
    """Every statistic of an errors table (alpha, beta, seed, index, error), computed once:
    :func:`analyze_cubes` on its checked cube (:func:`rsmooth.analysis.error_cubes`)."""
    alphas, betas, cubes = error_cubes(errors)
    return analyze_cubes(alphas, betas, cubes, window=window, order=order, level=level, n_boot=n_boot,
                         rng_seed=rng_seed, delta=delta)


def analyze_cubes(alphas, betas, cubes: dict, *, window: int, order: int, level: float, n_boot: int,
                  rng_seed: int, delta: float | None) -> Analysis:
    """Every statistic of the error cubes {seed: (E[alpha, beta, image], image indices)}.

    Guarantees: every alpha* behind a gap was chosen on images (and, with >= 2 seeds, models)
    other than those that measure it; the contrast chooses nothing; intervals are paired over
    images and noise draws and, with >= 2 seeds, include the variation between trained models;
    with one seed a verdict other than "undecided" ends in " (conditional on models)"; the
    per-seed rows of ``alpha_star`` hold the very statistics whose mean over seeds is the
    claims' estimate; all randomness comes from generators seeded with ``rng_seed``, so equal
    inputs give equal outputs. ValueError for a bad ``level`` / ``n_boot`` / ``delta``.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be >= 2, got {n_boot}")
    if delta is not None and not delta > 0:
        raise ValueError(f"delta must be > 0 (or None: no contrast), got {delta}")
    grid = Grid(alphas, betas, window, order, delta)
    # seeds certified on the same images get the same resamples of them
    shared = len({idx.tobytes() for _, idx in cubes.values()}) == 1
    first = next(iter(cubes.values()))[1]
    common = bootstrap_counts(np.random.default_rng([rng_seed]), halves(first), n_boot) if shared else None
    seeds = [resample_seed(e, idx, grid, common or bootstrap_counts(np.random.default_rng([rng_seed, k]),
                                                                    halves(idx), n_boot))
             for k, (e, idx) in enumerate(cubes.values())]
    n_images = min(d.n for d in seeds)
    point = np.array([d.point for d in seeds])
    if len(seeds) > 1 and grid.c3:
        point[:, grid.first_gap:] = leave_one_seed_out(grid, seeds)
    pooled = pool(point, np.array([d.boot for d in seeds]), shared, n_images, level)
    risk, boot_risk = np.array([d.risk for d in seeds]), np.array([d.boot_risk for d in seeds])
    sets = {j: alpha_star_set(risk[:, :, j], boot_risk[:, :, :, j], shared, n_images, level)
            for j in range(len(grid.betas))}
    mean_risk = risk.mean(axis=0)
    mean_stars = grid.alphas[[grid.stars(mean_risk[None, :, j])[0] for j in range(len(grid.betas))]]
    notes, methods = _describe(grid, pooled, point, list(cubes), mean_risk, mean_stars,
                               np.array([grid.alphas[d.stars] for d in seeds]))
    one = len(seeds) == 1
    suffix = "; 1 seed: about the models trained once, not the training procedure" if one else ""
    claims = claim_rows(grid, pooled, sets, mean_stars, level, len(seeds), n_images, notes, methods, suffix)
    from .curves import fit_curves

    fits = [fit_curves(grid.alphas, d.risk.T, grid.window, grid.order) for d in seeds]  # (betas, alphas), method
    star = _per_seed_table(grid, seeds, list(cubes), fits, point, shared, level)
    return Analysis(claims, star, _over_seeds_table(grid, star, sets, mean_stars),
                    _curves_table(grid, seeds, list(cubes), fits))


def _describe(grid: Grid, pooled: Pooled, point, seed_names, mean_risk, mean_stars, stars):
    """The ``note`` and ``method`` texts of every claims row of our own cube."""
    s, a, b = len(seed_names), grid.alphas, grid.betas
    several = s > 1
    notes, methods = {}, {}
    methods[("C1", None)] = "least-squares slope; " + pooled.how
    notes[("C1", None)] = ("needs alpha = 0 on the grid and >= 2 betas" if not np.isfinite(pooled.estimate[0]) else
                           "risk(alpha=0, beta)" + (" (mean over seeds)" if several else "") + ": "
                           + _pairs(b, mean_risk[grid.zero[0]]))
    methods[("C2", None)] = f"least-squares slope, alpha* per seed by {grid.curve} curve; " + pooled.how
    notes[("C2", None)] = ("needs >= 2 betas" if not np.isfinite(pooled.estimate[1]) else "alpha*(beta) on all images"
                           + (" (of the mean curve over seeds)" if several else "") + ": " + _pairs(b, mean_stars))
    for col, (j, at, lo) in enumerate(grid.contrasts):
        methods[("C3", j)] = (f"contrast fixed before the run (delta = {grid.delta:g}), paired over images; "
                              + pooled.how)
        notes[("C3", j)] = (f"alpha = beta - delta = {b[j] - grid.delta:g} is not on the alpha grid: no contrast"
                            if lo is None else f"risk(alpha={a[at]:g}) - risk(alpha={a[lo]:g}); > 0: alpha = beta "
                            f"is beaten by alpha = beta - {grid.delta:g}"
                            + (f"; per seed: {_pairs(seed_names, point[:, 2 + col])}" if several else ""))
    where = "even/odd index" + (", alpha* from the other seeds" if several else "")
    for j, at in grid.c3:
        methods[(GAP, j)] = f"cross-fit ({where}), alpha* by {grid.curve} curve; " + pooled.how
        notes[(GAP, j)] = (f"alpha* on all images: {mean_stars[j]:g}" + (
            " (mean curve over seeds), per seed " + ", ".join(f"{x:g}" for x in stars[:, j]) if several else ""))
        methods[(SET, j)] = ("alphas not shown worse than another (multiple comparisons with the best, Bonferroni "
                             "over the k - 1 comparisons), pairwise differences paired over images; " + pooled.how)
        notes[(SET, j)] = f"estimate: beta - alpha* of the {grid.curve} fit ({mean_stars[j]:g})"
    return notes, methods


def _per_seed_table(grid: Grid, seeds: list[SeedDraws], names, fits, point, shared: bool,
                    level: float) -> pd.DataFrame:
    """alpha_star.csv: per seed and beta, alpha* with its confidence set (that seed's images,
    conditional on its models), the risks the claims read, and the seed's own contrast and gap
    (the statistics averaged into the claims) with within-seed intervals."""
    alphas, betas = grid.alphas, grid.betas
    contrast = {j: (2 + c, lo) for c, (j, _, lo) in enumerate(grid.contrasts)}
    gap = {j: grid.first_gap + c for c, (j, _) in enumerate(grid.c3)}
    at_beta = dict(grid.c3)
    rows = []
    for si, (seed, d, fitted) in enumerate(zip(names, seeds, fits)):
        own = pool(point[si:si + 1], d.boot[None], shared, d.n, level)
        for j, beta in enumerate(betas):
            k = d.stars[j]
            member = alpha_star_set(d.risk[None, :, j], d.boot_risk[None, :, :, j], shared, d.n, level).member
            row = {"seed": seed, "beta": beta, "alpha_star": alphas[k],
                   "alpha_star_low": alphas[member].min(), "alpha_star_high": alphas[member].max(),
                   "alpha_star_set": _set_text(alphas, member),
                   "risk_fitted_at_star": fitted[0][j, k], "risk_at_star": d.risk[k, j],
                   "risk_alpha0": d.risk[grid.zero[0], j] if len(grid.zero) else np.nan,
                   "risk_alpha_beta": d.risk[at_beta[j], j] if j in at_beta else np.nan,
                   "curve_method": fitted[1], "n_images": d.n}
            for name, c in (("contrast", contrast.get(j, (None,))[0]), ("gap", gap.get(j))):
                v, lo, hi = (own.estimate[c], own.low[c], own.high[c]) if c is not None else (np.nan,) * 3
                row.update({name: v, f"{name}_low": lo, f"{name}_high": hi})
            partner = contrast.get(j, (0, None))[1]
            row["contrast_alpha"] = alphas[partner] if partner is not None else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def _over_seeds_table(grid: Grid, star: pd.DataFrame, sets: dict, mean_stars) -> pd.DataFrame:
    """alpha_star_seeds.csv: per beta, how the seeds' alpha* spread (descriptive), alpha* of the
    mean curve and its confidence set over seeds, and the mean contrast and gap."""
    g = star.groupby("beta")
    out = g["alpha_star"].agg(n_seeds="size", alpha_star_mean="mean", alpha_star_std="std",
                              alpha_star_min="min", alpha_star_max="max").reset_index()
    out["alpha_star_of_mean_curve"] = mean_stars
    members = [sets[j].member for j in range(len(grid.betas))]
    out["alpha_star_low"] = [grid.alphas[m].min() for m in members]
    out["alpha_star_high"] = [grid.alphas[m].max() for m in members]
    out["alpha_star_set"] = [_set_text(grid.alphas, m) for m in members]
    out["contrast_mean"] = g["contrast"].mean().to_numpy()
    out["gap_mean"] = g["gap"].mean().to_numpy()
    return out


def _curves_table(grid: Grid, seeds: list[SeedDraws], names, fits) -> pd.DataFrame:
    """curves.csv: measured and fitted risk per seed, beta and alpha."""
    rows = []
    for seed, d, (fitted, method) in zip(names, seeds, fits):
        rows += [{"seed": seed, "beta": beta, "alpha": a, "risk": d.risk[i, j], "risk_fitted": fitted[j, i],
                  "curve_method": method, "n_images": d.n}
                 for j, beta in enumerate(grid.betas) for i, a in enumerate(grid.alphas)]
    return pd.DataFrame(rows)
