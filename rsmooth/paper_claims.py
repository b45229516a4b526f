"""The paper's claims C1-C3 replayed on its published counts (a reference table, see
rsmooth/reference.py) with the statistics of rsmooth/claims.py, as far as counts allow: the
released tables hold errors per (alpha, beta) over N test images, not per-image errors, so the
paired resampling of images and the cross-fitting of C3 cannot be done (:func:`replay_claims`
says what replaces them)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def replay_claims(ref: pd.DataFrame, n: int, window: int = 15, order: int = 3, level: float = 0.95,
                  n_boot: int = 2000, rng_seed: int = 0) -> pd.DataFrame:
    """C1-C3 of rsmooth/claims.py on a reference table (its columns, one row per claim and C3
    beta): the same statistics (C1, C2 least-squares slopes, alpha* by the pipeline's curve fit
    with ``window``/``order``; C3 the gap at the betas on the alpha grid) and the same one-seed
    interval, estimate +- z * SE, and verdicts. What counts allow instead of per-image errors:
    SE from ``n_boot`` parametric resamples of every cell, errors ~ Binomial(N, errors / N),
    cells independent (the paired resampling of images needs per-image errors, which were not
    released), and a C3 gap measured on the same images that chose alpha* (no cross-fitting)."""
    from scipy.stats import norm

    from .claims import COLUMNS as CLAIM_COLUMNS, STATISTICS, SUPPORTED, UNDECIDED, _slope, _verdict
    from .curves import _method, best_indices

    wide = ref.pivot(index="alpha", columns="beta", values="errors").sort_index()
    alphas, betas, e = wide.index.to_numpy(float), wide.columns.to_numpy(float), wide.to_numpy(float)
    zero = np.flatnonzero(alphas == 0)
    c3 = [(j, int(np.argmin(np.abs(alphas - b)))) for j, b in enumerate(betas)
          if b > 0 and np.isclose(alphas, b, rtol=0, atol=1e-9).any()]

    def statistics(r):  # risks (m, alphas, betas) -> (m, 2 + len(c3)), alpha* indices (m, betas)
        stars = best_indices(alphas, np.swapaxes(r, 1, 2), window, order)[0]
        out = np.full((len(r), 2 + len(c3)), np.nan)
        if len(betas) >= 2:
            out[:, 0] = _slope(betas, r[:, zero[0], :]) if len(zero) else np.nan
            out[:, 1] = _slope(betas, alphas[stars])
        for k, (j, near) in enumerate(c3):
            out[:, 2 + k] = r[:, near, j] - r[np.arange(len(r)), stars[:, j], j]
        return out, stars

    point, stars = statistics(e[None] / n)
    rng = np.random.default_rng(rng_seed)
    se = statistics(rng.binomial(n, e / n, size=(n_boot,) + e.shape) / n)[0].std(axis=0, ddof=1)
    q = norm.ppf(0.5 + level / 2)
    curve = _method(alphas, window, order)
    how = f"normal, SE from {n_boot} resamples of each cell's errors ~ Binomial({n}, errors/{n}), cells independent"
    common = ("; counts only: no paired interval (needs per-image errors, which were not released); "
              "1 model per alpha: about the authors' models, not the training procedure")
    rows = []
    for k, claim in enumerate(["C1", "C2"] + ["C3"] * len(c3)):
        est, low, high = point[0, k], point[0, k] - q * se[k], point[0, k] + q * se[k]
        ok = np.isfinite(est) and np.isfinite(se[k]) and se[k] > 0
        verdict, beta = _verdict(low, high, True) if ok else UNDECIDED, np.nan
        if claim == "C1":
            method, note = "least-squares slope; " + how, "risk(alpha=0, beta): " + ", ".join(
                f"{b:g}: {v:.4g}" for b, v in zip(betas, e[zero[0]] / n)) if len(zero) else "needs alpha = 0"
        elif claim == "C2":
            method = f"least-squares slope, alpha* by {curve} curve; " + how
            note = "alpha*(beta): " + ", ".join(f"{b:g}: {alphas[i]:g}" for b, i in zip(betas, stars[0]))
        else:
            j, near = c3[k - 2]
            beta, a_star = float(betas[j]), alphas[stars[0, j]]
            method = f"alpha* by {curve} curve, gap on the same images (no cross-fitting); " + how
            note = f"alpha = beta at grid alpha {alphas[near]:g}; alpha* {a_star:g}"
            if verdict.startswith(SUPPORTED) and a_star >= alphas[near]:
                verdict, note = UNDECIDED, note + "; the gap is > 0 but alpha* is not below beta"
        rows.append({"claim": claim, "beta": beta, "statistic": STATISTICS[claim], "estimate": est, "low": low,
                     "high": high, "level": level, "n_seeds": 1, "n_images": n, "method": method,
                     "verdict": verdict, "note": note + common})
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)
