"""Risk curves over the training noise alpha that cannot draw the impossible.

The paper smooths each measured curve alpha -> Delta(alpha, beta) with a Savitzky-Golay filter
(window 15, order 3) and reads alpha* off the smoothed minimum. That filter fits local
polynomials to *evenly spaced* samples: on a non-uniform grid it computes something else
without warning, and with fewer points than the window the shrunken window is a single cubic
through the whole curve, which can dip below 0 or below every measured risk and so put alpha*
in a valley that no measurement shows.

What :func:`fit_curves` does instead (its ``method``), for one curve or many:

* ``"savgol"``: the paper's filter, only where the grid supports it: alphas evenly spaced
  (:func:`uniform_grid`, relative tolerance 1e-9 of the span), at least ``window`` of them,
  ``window`` odd and greater than ``order``. Its output is clipped to
  ``[max(0, min risk), 1]``.
* ``"unimodal"``: otherwise, the least-squares valley-shaped curve (non-increasing, then
  non-decreasing in alpha: the shape of the paper's risk curves), computed exactly. For every
  split point k, pool-adjacent-violators fits y[:k] non-increasing and y[k:] non-decreasing;
  any such pair is a valley and every valley is one, so the split with the least squared error
  gives the least-squares valley. Each fitted value is the mean of a run of adjacent measured
  risks, so the fit lies in [min, max] of the data: never outside [0, 1], never below the
  smallest measurement. It uses only the order of the alphas, so any spacing is handled.
* ``"raw"``: fewer than 3 points: the measured values.

Guarantees, whatever the method, for measured risks in [0, 1]: every fitted value lies in
``[max(0, min risk), 1]`` (never below 0 nor below the smallest measured risk, so the fitted
minimum is one the data show); alpha* (:func:`best_indices`, the one alpha* rule of the pipeline)
is a grid alpha, the smallest one
among fitted values tied within 1e-12.
"""
from __future__ import annotations

import numpy as np

TIE = 1e-12


def uniform_grid(alphas, rtol: float = 1e-9) -> bool:
    """True when the sorted alphas are evenly spaced: every step within ``rtol`` times the
    span of the mean step (always True for fewer than 3 points)."""
    a = np.sort(np.asarray(alphas, dtype=float))
    if len(a) < 3:
        return True
    d = np.diff(a)
    return bool(np.all(np.abs(d - d.mean()) <= rtol * (a[-1] - a[0])))


def _method(alphas: np.ndarray, window: int, order: int) -> str:
    n = len(alphas)
    if n < 3:
        return "raw"
    if window % 2 == 1 and order < window <= n and uniform_grid(alphas):
        return "savgol"
    return "unimodal"


def _increasing_sse(y: list[float]) -> list[float]:
    """sse[k] = residual sum of squares of the least-squares non-decreasing fit to y[:k]
    (pool-adjacent-violators, one pass: the stack after k points is the fit of y[:k])."""
    sums: list[float] = []
    counts: list[int] = []
    sq = explained = 0.0  # sum of y^2; sum over blocks of S^2 / n (SSE = sq - explained)
    out = [0.0]
    for v in y:
        s, c = v, 1
        while sums and sums[-1] * c >= s * counts[-1]:  # previous block mean >= this one: pool
            ps, pc = sums.pop(), counts.pop()
            explained -= ps * ps / pc
            s, c = s + ps, c + pc
        sums.append(s)
        counts.append(c)
        explained += s * s / c
        sq += v * v
        out.append(sq - explained)
    return out


def _increasing_fit(y: list[float]) -> list[float]:
    """The least-squares non-decreasing fit to y: block means of pool-adjacent-violators."""
    sums: list[float] = []
    counts: list[int] = []
    for v in y:
        s, c = v, 1
        while sums and sums[-1] * c >= s * counts[-1]:
            s, c = s + sums.pop(), c + counts.pop()
        sums.append(s)
        counts.append(c)
    return [s / c for s, c in zip(sums, counts) for _ in range(c)]


def unimodal_fit(y) -> np.ndarray:
    """The least-squares valley-shaped (non-increasing, then non-decreasing) fit to ``y`` in
    the given order; every value is a mean of adjacent values of ``y``."""
    y = [float(v) for v in y]
    n = len(y)
    if n < 3:
        return np.asarray(y, dtype=float)
    neg = [-v for v in y]
    left = _increasing_sse(neg)                 # non-increasing fits of y[:k]
    right = _increasing_sse(neg[::-1])[::-1]    # non-decreasing fits of y[k:]
    k = min(range(n + 1), key=lambda j: left[j] + right[j])
    fit = [-v for v in _increasing_fit(neg[:k])] + _increasing_fit(y[k:])
    return np.asarray(fit, dtype=float)


def _check(alphas, risks) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(alphas, dtype=float)
    r = np.asarray(risks, dtype=float)
    if a.ndim != 1 or len(a) == 0 or not np.all(np.isfinite(a)):
        raise ValueError("alphas must be a non-empty 1-D array of finite numbers")
    if len(np.unique(a)) != len(a):
        raise ValueError(f"alphas must be distinct, got {a.tolist()}")
    if r.shape[-1:] != a.shape or not np.all(np.isfinite(r)):
        raise ValueError(f"risks must be finite with last axis of length {len(a)}, got shape {r.shape}")
    return a, r


def savgol(y, window: int, order: int) -> np.ndarray:
    """The Savitzky-Golay filter (scipy's, along the last axis) that the paper smooths with: the
    project's one call of it. The samples must be evenly spaced (the caller's promise) and at
    least ``window`` long; ``window`` odd and > ``order``. A window is never shrunk to fit: on
    fewer points it would be one polynomial through the whole curve (see the module docstring),
    so a ValueError says so instead."""
    y = np.asarray(y, dtype=float)
    if window % 2 == 0 or window <= order:
        raise ValueError(f"Savitzky-Golay window must be odd and greater than the order {order}, got {window}")
    if y.shape[-1] < window:
        raise ValueError(f"Savitzky-Golay window {window} is longer than the {y.shape[-1]} points of the curve")
    # Imported here: certify jobs import this package and need not load scipy.signal.
    from scipy.signal import savgol_filter

    return savgol_filter(y, window, order, axis=-1)


def fit_curves(alphas, risks, window: int = 15, order: int = 3) -> tuple[np.ndarray, str]:
    """The fitted risk at each alpha (same order as given) of every curve, ``risks`` of shape
    (..., len(alphas)), and the method used: "savgol", "unimodal" or "raw" (see the module
    docstring). Fitted values are never below 0 or the smallest measured risk of their curve,
    and never above 1. Savitzky-Golay runs vectorised; the unimodal fit curve by curve."""
    a, r = _check(alphas, risks)
    perm = np.argsort(a, kind="stable")
    method = _method(a, window, order)
    rs = r[..., perm]
    if method == "savgol":
        fit = savgol(rs, window, order)
    elif method == "unimodal":
        flat = rs.reshape(-1, len(a))
        fit = np.array([unimodal_fit(row) for row in flat]).reshape(rs.shape)
    else:
        fit = rs.copy()
    low = np.maximum(rs.min(axis=-1, keepdims=True), 0.0)
    fit = np.clip(fit, low, np.maximum(1.0, low))
    out = np.empty_like(fit)
    out[..., perm] = fit
    return out, method


def best_indices(alphas, risks, window: int = 15, order: int = 3) -> tuple[np.ndarray, str]:
    """For risks of shape (..., len(alphas)): the index into ``alphas`` of alpha* for each
    curve (argmin of the fit; ties within 1e-12 go to the smallest alpha), and the method."""
    fit, method = fit_curves(alphas, risks, window, order)
    return _argmin(np.asarray(alphas, dtype=float), fit), method


def _argmin(a: np.ndarray, fit: np.ndarray) -> np.ndarray:
    perm = np.argsort(a, kind="stable")
    fs = fit[..., perm]
    return perm[np.argmax(fs <= fs.min(axis=-1, keepdims=True) + TIE, axis=-1)]
