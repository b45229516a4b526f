"""The paper's claims C1-C3 replayed on its published counts (a reference table, see
rsmooth/reference.py) with the statistics of rsmooth/claims.py, as far as counts allow: the
released tables hold errors per (alpha, beta) over N test images, not per-image errors, so the
paired resampling of images and the cross-fitting of C3 cannot be done (:func:`replay_claims`
says what replaces them)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def replay_claims(ref: pd.DataFrame, n: int, window: int = 15, order: int = 3, level: float = 0.95,
                  n_boot: int = 2000, rng_seed: int = 0, delta: float | None = None) -> pd.DataFrame:
    """C1-C3 of rsmooth/claims.py on a reference table (its columns, one row per claim and C3
    beta), computed by the very statistics of the pipeline (``claims._Plan``: C1, C2 slopes,
    alpha* by the pipeline's curve fit with ``window``/``order``, the C3 contrast against
    alpha = beta - ``delta`` and the C3 gap), with the same one-seed interval, estimate +- z *
    SE, and verdicts. What counts allow instead of per-image errors: SE from ``n_boot``
    parametric resamples of every cell, errors ~ Binomial(N, errors / N), cells independent
    (the paired resampling of images needs per-image errors, which were not released), and a
    gap measured on the same images that chose alpha* (no cross-fitting: it leans upward)."""
    from scipy.stats import norm

    from .claims import _Plan, claim_rows

    wide = ref.pivot(index="alpha", columns="beta", values="errors").sort_index()
    alphas, betas, e = wide.index.to_numpy(float), wide.columns.to_numpy(float), wide.to_numpy(float)
    plan = _Plan(alphas, betas, window, order, delta)

    def statistics(r):  # risks (m, alphas, betas); both "halves" are all images: no cross-fitting
        return plan.statistics(r, r, 1.0)

    point, stars = statistics(e[None] / n)
    rng = np.random.default_rng(rng_seed)
    se = statistics(rng.binomial(n, e / n, size=(n_boot,) + e.shape) / n)[0].std(axis=0, ddof=1)
    how = f"normal, SE from {n_boot} resamples of each cell's errors ~ Binomial({n}, errors/{n}), cells independent"
    star_alphas = alphas[stars[0]]

    def describe(claim, k, j, near, lo):
        if claim == "C1":
            return "least-squares slope; " + how, ("risk(alpha=0, beta): " + ", ".join(
                f"{b:g}: {v:.4g}" for b, v in zip(betas, e[plan.zero[0]] / n)) if len(plan.zero) else "needs alpha = 0")
        if claim == "C2":
            return f"least-squares slope, alpha* by {plan.curve} curve; " + how, "alpha*(beta): " + ", ".join(
                f"{b:g}: {a:g}" for b, a in zip(betas, star_alphas))
        if claim == "C3":
            return f"contrast fixed before the run (delta = {delta:g}); " + how, (
                f"alpha = beta - delta = {betas[j] - delta:g} is not on the alpha grid: no contrast" if lo is None
                else f"risk(alpha={alphas[near]:g}) - risk(alpha={alphas[lo]:g})")
        return (f"alpha* by {plan.curve} curve, gap on the same images (no cross-fitting); " + how,
                f"alpha* {star_alphas[j]:g}")

    return claim_rows(plan, point[0], se, norm.ppf(0.5 + level / 2), level, 1, n, describe, star_alphas,
                      "; counts only: no paired interval (needs per-image errors, which were not released); "
                      "1 model per alpha: about the authors' models, not the training procedure")
