"""The math of randomized smoothing, in one place.

Given a base classifier ``h`` and a noise level ``beta``, the smoothed classifier is

    g(x) = argmax_c  P_eps[ h(x + beta * eps) = c ],   eps ~ N(0, I).

``Smooth.vote`` estimates g(x) as Pal & Sulam do: the majority vote of ``h`` over ``N`` draws.
``Smooth.certify`` is Cohen, Rosenfeld & Kolter's (2019) CERTIFY: the vote is the selection
step, then ``n`` fresh draws give a one-sided Clopper-Pearson lower bound ``pA`` on
P[h(x + beta eps) = vote], and g is certified robust at x within the L2 radius
``beta * PhiInverse(pA)`` (or abstains when ``pA < 1/2``).

Noise semantics (common random numbers). The standard-normal draws used for test image ``i``
depend only on ``(seed, i, stream)``: stream 0 feeds the vote, stream 1 the certification
draws. They are the same for every model (every training noise alpha) and every beta (which
only scales them), whatever the batch size, the order of the images, or early stopping. So
differences between alphas are not Monte Carlo noise, and any job can be rerun alone. They are
made on the device that runs the network by the counter-based generator of
:mod:`rsmooth.rng` (SplitMix64, Box-Muller): the same numbers on a CPU and a GPU (up to a float32 ulp
in a few of 10^8 values, see there).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
# scipy.special, not scipy.stats: the same functions bit for bit (stats' beta.ppf and norm.ppf
# call betaincinv and ndtri), without the second of import time scipy.stats costs every job.
from scipy.special import betaincinv, ndtri

from . import rng
from .runtime import check_pixels
from .rng import CERT_STREAM, VOTE_STREAM


def noise(seed: int, index: int, stream: int, n: int, shape: tuple[int, ...]) -> np.ndarray:
    """The first ``n`` standard-normal draws of image ``index``: float32 array [n, *shape],
    exactly what the engine adds (times beta) for that image (:func:`rsmooth.rng.normals`)."""
    return rng.normals(seed, stream, np.full(n, int(index)), np.arange(n), tuple(shape)).numpy()


def clopper_pearson_lower(k, n, failure_prob: float):
    """One-sided Clopper-Pearson lower bound on a binomial proportion.

    With probability at least ``1 - failure_prob`` over the draws, the true proportion is at
    least this value. Equals ``statsmodels.proportion_confint(k, n, alpha=2 * failure_prob,
    method="beta")[0]`` (Cohen et al.'s ``lowerConfidenceBound``); 0 where ``k == 0``.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        low = betaincinv(k, n - k + 1, failure_prob)
    return np.where(k > 0, low, 0.0)


def clopper_pearson_interval(k, n, level: float = 0.95):
    """Two-sided Clopper-Pearson interval ``(low, high)`` at confidence ``level``."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    a = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, betaincinv(k, n - k + 1, a), 0.0)
        high = np.where(k < n, betaincinv(k + 1, n - k, 1 - a), 1.0)
    return low, high


def certified_radius(p_lower, beta: float):
    """Cohen et al.'s L2 radius ``beta * PhiInverse(p_lower)``; NaN (abstain) if ``p_lower < 1/2``."""
    p_lower = np.asarray(p_lower, dtype=float)
    with np.errstate(divide="ignore"):
        r = beta * ndtri(p_lower)
    return np.where(p_lower >= 0.5, r, np.nan)


def draws_before_decision(counts: np.ndarray, remaining: np.ndarray) -> np.ndarray:
    """Fewest further draws after which each vote could be decided.

    ``counts`` is [B, K] (votes so far), ``remaining`` [B] (draws left of the N). The final
    vote is ``argmax`` of the full counts with ties going to the smallest class index
    (``np.argmax``). The current leader ``l`` is certain to win once, for every other class
    ``c``, ``counts[c] + remaining < counts[l]``, or equality with ``l < c``. Even if all the
    next ``k`` draws went to ``l``, that needs ``k`` at least the value returned here, so
    checking only after that many draws loses nothing. 0 means decided now; the result is
    capped at ``remaining``.
    """
    counts = np.asarray(counts)
    remaining = np.asarray(remaining)
    b, k = counts.shape
    lead = counts.argmax(axis=1)
    top = counts[np.arange(b), lead]
    d = counts + remaining[:, None] - top[:, None]  # what c can reach minus what l has
    cls = np.arange(k)[None, :]
    tie_ok = cls > lead[:, None]  # a tie with c goes to l
    need = np.where(d < 0, 0, np.where((d % 2 == 0) & tie_ok, d // 2, d // 2 + 1))
    need[np.arange(b), lead] = 0
    return np.minimum(need.max(axis=1), remaining)


@dataclass
class VoteResult:
    """Per image: ``counts`` [B, K] over the ``n_evals`` [B] draws actually made, ``vote`` [B]."""

    counts: np.ndarray
    n_evals: np.ndarray
    vote: np.ndarray


@dataclass
class CertifyResult:
    """Per image: the vote (selection), ``count_cert`` of the vote among ``n`` fresh draws,
    ``p_lower`` (NaN if n == 0), ``radius`` (NaN when abstaining or n == 0)."""

    vote: VoteResult
    count_cert: np.ndarray
    p_lower: np.ndarray
    radius: np.ndarray


class Smooth:
    """A Gaussian-smoothed classifier g built on a base classifier h.

    ``base`` maps a float batch [B, C, H, W] (pixels in [0, 1]) to logits [B, K]. ``beta`` is
    the standard deviation of the smoothing noise, in pixel units. ``batch_size`` is the number
    of noisy copies per forward pass; it changes speed, never results (in exact arithmetic; in
    float32 a different batch grouping can move a logit by ~1e-7, see the README).
    """

    def __init__(self, base: torch.nn.Module, num_classes: int, beta: float,
                 batch_size: int = 128, device: str | torch.device = "cpu",
                 channels_last: bool = True):
        if beta < 0 or not np.isfinite(beta):
            raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
        self.base = base
        self.num_classes = int(num_classes)
        self.beta = float(beta)
        self.batch_size = int(batch_size)
        self.device = torch.device(device)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.dtype = next(base.parameters()).dtype

    def _predict(self, x: torch.Tensor) -> np.ndarray:
        x = x.to(self.device, self.dtype, non_blocking=True).contiguous(memory_format=self.memory_format)
        with torch.inference_mode():
            return self.base(x).argmax(dim=1).cpu().numpy()

    def vote(self, x: torch.Tensor, indices, n: int, seed: int, early_stop: bool = True,
             stream: int = VOTE_STREAM, progress=None) -> VoteResult:
        """Majority vote of h over the first ``n`` draws of each image: the smoothed prediction.

        ``x`` is [B, C, H, W]; ``indices`` [B] are the images' dataset indices (they name their
        noise). Guarantee: ``vote`` equals ``argmax`` (smallest class on ties) of the counts
        over all ``n`` draws. With ``early_stop`` an image stops drawing once its leader cannot
        be overtaken by the draws left; its ``counts`` then cover only ``n_evals < n`` draws,
        but the vote is the same. With ``beta == 0`` every draw is x itself: one evaluation
        gives the exact full counts (``n`` votes for h(x)). Draw k of image b is
        ``x[b] + beta * eps`` with eps = :func:`noise` ``(seed, indices[b], stream, ...)[k]``,
        made on ``device`` (only the images and the row counters are copied there).
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        check_pixels(x)
        bsz = x.shape[0]
        counts = np.zeros((bsz, self.num_classes), dtype=np.int64)
        n_evals = np.zeros(bsz, dtype=np.int64)
        if self.beta == 0.0:
            for s in range(0, bsz, self.batch_size):
                pred = self._predict(x[s:s + self.batch_size])
                counts[np.arange(s, s + len(pred)), pred] = n
                n_evals[s:s + len(pred)] = 1
                if progress is not None:
                    progress.update(len(pred))
            return VoteResult(counts, n_evals, counts.argmax(axis=1))

        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(indices) != bsz:
            raise ValueError(f"{len(indices)} indices for {bsz} images")
        if bsz and (indices.min() < 0 or indices.max() >= rng.WORD_LIMIT or n > rng.WORD_LIMIT):
            raise ValueError(f"image indices must be in [0, 2^32) and n <= 2^32, got indices in "
                             f"[{indices.min()}, {indices.max()}] and n = {n}")
        shape = tuple(x.shape[1:])
        x_dev = x.to(self.device, self.dtype)
        first_want = int(self._wants(np.zeros((1, self.num_classes), np.int64),
                                     np.array([n]), early_stop)[0])
        next_image = 0
        active = np.zeros(0, dtype=np.int64)  # images drawing, in admission order
        want = np.zeros(0, dtype=np.int64)    # draws each active image asks for now
        while next_image < bsz or len(active):
            # Admit images in order until the asks fill a batch.
            short = self.batch_size - int(want.sum())
            if short > 0 and next_image < bsz:
                k = min(bsz - next_image, -(-short // first_want))
                active = np.concatenate([active, np.arange(next_image, next_image + k)])
                want = np.concatenate([want, np.full(k, first_want)])
                next_image += k
            # Each image in order takes what it asks for, as long as the batch has room.
            take = np.clip(self.batch_size - (np.cumsum(want) - want), 0, want)
            owner = np.repeat(active, take)
            first = np.repeat(np.cumsum(take) - take, take)
            draw = np.repeat(n_evals[active], take) + np.arange(len(owner)) - first
            rows = torch.from_numpy(np.stack([owner, indices[owner], draw])).to(self.device)
            noisy = rng.normals(seed, stream, rows[1], rows[2], shape, self.device).to(self.dtype)
            noisy.mul_(self.beta).add_(x_dev[rows[0]])
            np.add.at(counts, (owner, self._predict(noisy)), 1)
            n_evals[active] += take
            want = self._wants(counts[active], n - n_evals[active], early_stop)
            if progress is not None:
                progress.update(int((want == 0).sum()))
            active, want = active[want > 0], want[want > 0]
        return VoteResult(counts, n_evals, counts.argmax(axis=1))

    @staticmethod
    def _wants(counts: np.ndarray, remaining: np.ndarray, early_stop: bool) -> np.ndarray:
        """Draws each image asks for next: all that remain, or the fewest that could decide it."""
        return draws_before_decision(counts, remaining) if early_stop else remaining

    def certify(self, x: torch.Tensor, indices, n0: int, n: int, failure_prob: float,
                seed: int, early_stop: bool = True, progress=None) -> CertifyResult:
        """Cohen et al.'s CERTIFY with the vote over ``n0`` draws as the selection step.

        Guarantee (Cohen et al., Theorem 1 and Proposition 2): for each image, with probability
        at least ``1 - failure_prob`` over the ``n`` certification draws, if ``radius`` is not
        NaN then the smoothed classifier g predicts ``vote`` everywhere in the L2 ball of that
        radius around x. ``n == 0`` skips certification (``p_lower`` and ``radius`` NaN).
        """
        if not 0.0 < failure_prob < 1.0:
            raise ValueError(f"failure_prob must be in (0, 1), got {failure_prob}")
        sel = self.vote(x, indices, n0, seed, early_stop=early_stop, stream=VOTE_STREAM,
                        progress=progress)
        bsz = x.shape[0]
        if n == 0:
            nan = np.full(bsz, np.nan)
            return CertifyResult(sel, np.zeros(bsz, dtype=np.int64), nan, nan.copy())
        est = self.vote(x, indices, n, seed, early_stop=False, stream=CERT_STREAM)
        count_cert = est.counts[np.arange(bsz), sel.vote]
        p_lower = clopper_pearson_lower(count_cert, n, failure_prob)
        return CertifyResult(sel, count_cert, p_lower, certified_radius(p_lower, self.beta))
