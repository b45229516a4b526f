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

    from .claims import COLUMNS as CLAIM_COLUMNS, GAP, STATISTICS, SUPPORTED, UNDECIDED, _Plan, _verdict

    wide = ref.pivot(index="alpha", columns="beta", values="errors").sort_index()
    alphas, betas, e = wide.index.to_numpy(float), wide.columns.to_numpy(float), wide.to_numpy(float)
    plan = _Plan(alphas, betas, window, order, delta)

    def statistics(r):  # risks (m, alphas, betas); both "halves" are all images: no cross-fitting
        return plan.statistics(r, r, 1.0)

    point, stars = statistics(e[None] / n)
    rng = np.random.default_rng(rng_seed)
    se = statistics(rng.binomial(n, e / n, size=(n_boot,) + e.shape) / n)[0].std(axis=0, ddof=1)
    q = norm.ppf(0.5 + level / 2)
    how = f"normal, SE from {n_boot} resamples of each cell's errors ~ Binomial({n}, errors/{n}), cells independent"
    common = ("; counts only: no paired interval (needs per-image errors, which were not released); "
              "1 model per alpha: about the authors' models, not the training procedure")
    kinds = ["C1", "C2"] + ["C3"] * len(plan.contrasts) + [GAP] * len(plan.c3)
    rows = []
    for k, claim in enumerate(kinds):
        est, low, high = point[0, k], point[0, k] - q * se[k], point[0, k] + q * se[k]
        ok = np.isfinite(est) and np.isfinite(se[k]) and se[k] > 0
        verdict, beta = _verdict(low, high, True) if ok else UNDECIDED, np.nan
        if claim == "C1":
            method, note = "least-squares slope; " + how, "risk(alpha=0, beta): " + ", ".join(
                f"{b:g}: {v:.4g}" for b, v in zip(betas, e[plan.zero[0]] / n)) if len(plan.zero) else "needs alpha = 0"
        elif claim == "C2":
            method = f"least-squares slope, alpha* by {plan.curve} curve; " + how
            note = "alpha*(beta): " + ", ".join(f"{b:g}: {alphas[i]:g}" for b, i in zip(betas, stars[0]))
        elif claim == "C3":
            j, near, lo = plan.contrasts[k - 2]
            beta = float(betas[j])
            method = f"contrast fixed before the run (delta = {delta:g}); " + how
            note = (f"alpha = beta - delta = {beta - delta:g} is not on the alpha grid: no contrast" if lo is None
                    else f"risk(alpha={alphas[near]:g}) - risk(alpha={alphas[lo]:g})")
        else:
            j, near = plan.c3[k - plan.first_gap]
            beta, a_star = float(betas[j]), alphas[stars[0, j]]
            method = f"alpha* by {plan.curve} curve, gap on the same images (no cross-fitting); " + how
            note = f"alpha* {a_star:g}"
            if verdict.startswith(SUPPORTED) and a_star >= alphas[near]:
                verdict, note = UNDECIDED, note + "; the gap is > 0 but alpha* is not below beta"
        rows.append({"claim": claim, "beta": beta, "statistic": STATISTICS[claim], "estimate": est, "low": low,
                     "high": high, "level": level, "n_seeds": 1, "n_images": n, "method": method,
                     "verdict": verdict, "note": note + common})
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)
