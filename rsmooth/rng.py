"""Counter-based Gaussian noise: the same numbers on every device, in any order.

Every noise value in the pipeline is a function of its name, not of a generator's state:

    eps[seed, stream, index, draw, j] = element j of draw ``draw`` of item ``index``

where ``stream`` says what the noise is for (the vote, the certification draws, training,
the noisy accuracy) and ``index`` names the item (a test image; a training step). Nothing
else enters: not the batch the value is computed in, the items beside it, how many draws were
taken before, the device, or the number of threads.

The bits come from Philox-4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as
easy as 1, 2, 3", SC 2011; the Random123 library), a keyed bijection of 128-bit counters:
counter ``(j // 4, draw, index, stream)``, key ``(seed mod 2^32, seed div 2^32)``. It is written
with int64 tensor operations (a 32 x 32-bit product fits 64 bits up to a wrap-around that
keeps its low word; the high word is shifted down and masked), so it runs on any torch device
and gives identical integers everywhere; ``tests/test_rng.py`` checks Random123's published
known-answer vectors.

Normals by Box-Muller in float64: for the words (a, b) of one counter pair,
``r = sqrt(-2 ln((a + 1/2) 2^-32))``, ``theta = 2 pi b 2^-32``, and the two normals
``r cos(theta)``, ``r sin(theta)`` computed in float64, then rounded to float32 (element
4m + 0, 1 from words 0, 1 of counter m; 4m + 2, 3 from words 2, 3). The uniforms are exact in
float64, and every operation but ``log``, ``cos`` and ``sin`` is correctly rounded by IEEE 754
on every device;
those three differ between implementations (CPU SLEEF, glibc, CUDA libdevice) by at most a few
float64 ulps. After rounding to float32 the values are therefore bitwise equal on every device
except where the exact value lies within a few float64 ulps of a float32 rounding boundary:
about 2 in 10^8 elements, and there they differ by one float32 ulp (2^-24 relative). A
1-ulp change moves a noisy pixel by about ``beta |eps| 2^-24`` (< 1e-7 at beta 1); it can
change a vote only if a draw lies that close to the base classifier's decision boundary and
that draw decides the majority, which is far rarer than the float differences of the
network's own forward pass between devices. |eps| is at most 6.77 (the smallest uniform is
2^-33); a standard normal exceeds that with probability 1.3e-11.
"""
from __future__ import annotations

import math

import torch

ENGINE = "Philox-4x32-10, Box-Muller in float64"  # what the benchmarks name the noise by

VOTE_STREAM = 0        # certification: the vote (selection) draws of a test image
CERT_STREAM = 1        # certification: the n draws behind the radius
TRAIN_STREAM = 2       # noise-augmented training (index = optimizer step, draw = sample in it)
ACCURACY_STREAM = 3    # the accuracy on noisy test images (index = test image, draw 0)

M0, M1 = 0xD2511F53, 0xCD9E8D57      # Philox-4x32 multipliers
W0, W1 = 0x9E3779B9, 0xBB67AE85      # key schedule (Weyl) constants
MASK = 0xFFFFFFFF
ROUNDS = 10
WORD_LIMIT = 1 << 32

_TWO_M32 = 2.0 ** -32
_ANGLE = 2.0 * math.pi * _TWO_M32


def key_words(seed: int) -> tuple[int, int]:
    """The Philox key of a seed in [0, 2^64): its low and high 32-bit words."""
    seed = int(seed)
    if not 0 <= seed < 1 << 64:
        raise ValueError(f"a noise seed must be in [0, 2^64), got {seed}")
    return seed & MASK, seed >> 32


def philox4x32(c0, c1, c2, c3, key: tuple[int, int], rounds: int = ROUNDS):
    """Philox-4x32-``rounds`` of the counter words ``(c0, c1, c2, c3)`` under ``key``.

    The words are int64 tensors (or ints) with values in [0, 2^32) that broadcast against one
    another; returns the four output words as int64 tensors of the broadcast shape, values in
    [0, 2^32). Guarantee: each output equals Random123's ``philox4x32_R(rounds, ctr, key)``
    for those words, on every device (only integer operations: exact everywhere). The inputs
    are not modified.
    """
    k0, k1 = int(key[0]) & MASK, int(key[1]) & MASK
    as_t = [torch.as_tensor(c, dtype=torch.int64) for c in (c0, c1, c2, c3)]
    full = torch.broadcast_shapes(*(t.shape for t in as_t))
    a0, c1t, a2, c3t = as_t
    # t1, t3 carry the words that are xored into the next high words, already xored with that
    # round's key; their bits above 31 may be set and are masked away with the high word.
    t1, t3 = c1t ^ k0, c3t ^ k1
    for r in range(rounds):
        inplace = r > 0  # from round 1 on every tensor is our own
        p0 = a0.mul_(M0) if inplace and a0.shape == full else a0 * M0
        p1 = a2.mul_(M1) if inplace and a2.shape == full else a2 * M1
        if r + 1 < rounds:
            n0, n1 = (k0 + (r + 1) * W0) & MASK, (k1 + (r + 1) * W1) & MASK
            nt1, nt3 = p1 ^ n0, p0 ^ n1          # the next round's c1 ^ k0 and c3 ^ k1
        else:
            nt1, nt3 = p1 & MASK, p0 & MASK      # the output words 1 and 3 (low words)
        a0 = _high_xor(p1, t1, full)             # new c0 = hi(M1 c2) ^ c1 ^ k0
        a2 = _high_xor(p0, t3, full)             # new c2 = hi(M0 c0) ^ c3 ^ k1
        t1, t3 = nt1, nt3
    return a0, t1, a2, t3


def _high_xor(p: torch.Tensor, t: torch.Tensor, full) -> torch.Tensor:
    """(high word of p) ^ t, masked to 32 bits; in place in p where p has the full shape."""
    if p.shape == full:
        return p.bitwise_right_shift_(32).bitwise_xor_(t).bitwise_and_(MASK)
    return ((p >> 32) ^ t) & MASK


def _box_muller(w0, w1, w2, w3, out: torch.Tensor) -> None:
    """Write the normals of counter words into ``out`` [..., 4] (float32): elements 0, 1 from
    (w0, w1), elements 2, 3 from (w2, w3); computed in float64, then rounded to float32."""
    for k, (a, b) in enumerate(((w0, w1), (w2, w3))):
        r = a.to(torch.float64).add_(0.5).mul_(_TWO_M32).log_().mul_(-2.0).sqrt_()
        theta = b.to(torch.float64).mul_(_ANGLE)
        torch.mul(r, torch.cos(theta), out=out[..., 2 * k])
        torch.mul(r, theta.sin_(), out=out[..., 2 * k + 1])


def _counter_column(values, device) -> torch.Tensor:
    """A counter word per row as an int64 column on ``device``; values on the host are checked
    to lie in [0, 2^32) (a tensor already on an accelerator is taken as it is: no sync)."""
    t = torch.as_tensor(values, dtype=torch.int64)
    if t.device.type == "cpu" and t.numel() and (int(t.min()) < 0 or int(t.max()) >= WORD_LIMIT):
        raise ValueError(f"counter words must be in [0, 2^32), got values in [{int(t.min())}, {int(t.max())}]")
    return t.to(device).reshape(-1, 1)


def normals(seed: int, stream: int, index, draw, shape, device=None) -> torch.Tensor:
    """Standard-normal draws: row ``m`` is draw ``draw[m]`` of item ``index[m]`` in ``stream``.

    ``index`` and ``draw`` are 1-D integer sequences of one length R (numpy arrays, lists or
    tensors; values in [0, 2^32)); returns float32 [R, *shape] on ``device`` (default: the
    device of ``index`` if it is a tensor, else the CPU), made there: nothing is copied to it
    but the R counters. Guarantee: element j of row m (in the row-major order of ``shape``) is
    a function of ``(seed, stream, index[m], draw[m], j)`` alone, the same for any other rows
    beside it, any order of the rows, any ``shape`` with at least j + 1 elements, and any
    device up to the rare float32 ulp described in the module docstring (integers: identical).
    """
    if not 0 <= int(stream) < WORD_LIMIT:
        raise ValueError(f"stream must be in [0, 2^32), got {stream}")
    key = key_words(seed)
    if device is None:
        device = index.device if isinstance(index, torch.Tensor) else torch.device("cpu")
    device = torch.device(device)
    index, draw = _counter_column(index, device), _counter_column(draw, device)
    if index.shape != draw.shape:
        raise ValueError(f"index and draw differ in length: {index.shape[0]} and {draw.shape[0]}")
    rows = index.shape[0]
    size = math.prod(shape)
    blocks = (size + 3) // 4
    out = torch.empty(rows, blocks, 4, dtype=torch.float32, device=device)
    block = torch.arange(blocks, dtype=torch.int64, device=device).view(1, -1)
    _box_muller(*philox4x32(block, draw, index, int(stream), key), out)
    flat = out.view(rows, 4 * blocks)
    if 4 * blocks != size:
        flat = flat[:, :size].contiguous()
    return flat.view(rows, *shape)
