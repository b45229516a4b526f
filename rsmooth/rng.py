"""Counter-based Gaussian noise: the same numbers on every device, in any order.

Every noise value in the pipeline is a function of its name, not of a generator's state:

    eps[seed, stream, index, draw, j] = element j of draw ``draw`` of item ``index``

where ``stream`` says what the noise is for (the vote, the certification draws, training,
the noisy accuracy) and ``index`` names the item (a test image; a training step). Nothing
else enters: not the batch the value is computed in, the items beside it, how many draws were
taken before, the shape's size beyond j, the device, or the number of threads.

The bits come from SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014; Vigna's reference ``splitmix64.c``): output m of the generator
started at state s is ``mix64(s + (m + 1) G)`` mod 2^64, with G = 0x9E3779B97F4A7C15 and
``mix64`` Stafford's "Mix13" finaliser (three xor-shifts and two multiplications), a bijection
of 64-bit words. It is counter-based (output m is computed from m directly) and passes
BigCrush; ``tests/test_rng.py`` checks the reference implementation's published outputs. A
draw (one row of noise) is SplitMix64 started at its own state

    s1 = mix64(seed + (stream + 1) G),  s2 = mix64(s1 + (index + 1) G),
    state = mix64(s2 + (draw + 1) G),

and word m of the row (m = j // 2) gives elements 2m and 2m + 1 by Box-Muller in float64: with
``a`` its low and ``b`` its high 32 bits read as a signed integer,
``r = sqrt(-2 ln((a + 1/2) 2^-32))``, ``theta = 2 pi b 2^-32`` (in [-pi, pi)), element 2m =
``r cos(theta)`` and 2m + 1 = ``r sin(theta)``, each rounded once to float32. Everything up to
the words is integer arithmetic on int64 tensors (products wrap modulo 2^64, logical shifts
are arithmetic shifts masked), so the words are identical on every torch device.

Why SplitMix64 and not Philox-4x32-10 (used for a few hours on 2026-12-06): written in
int64 tensor operations, Philox needs about 25 operations per 32-bit word, SplitMix64 about 6;
on one CPU thread Philox made CIFAR-10's fastnet certify 2-4% slower than numpy's PCG64 had,
SplitMix64 is on par (docs/performance.md). What SplitMix64 gives up: its state has 64 bits,
not Philox's 128-bit counter, so two rows share noise if their states lie within one row's
length of each other on the sequence ``s + m G``: probability about ``2 L / 2^64`` for a pair of
rows of L words (1.7e-16 for CIFAR-10's 1,536), so about 10^-5 pairs are expected among the
3 x 10^5 distinct draws of the default run and one among 10^8 CIFAR-10-sized draws; such a pair
would share (part of) one noise vector, which no statistic here can notice. Likewise seed and
stream enter as one sum, so (seed + k G, stream) names the same rows as (seed, stream + k): the
pipeline's seeds are small config seeds or 63-bit hashes (``rsmooth.seeding``), which meet that
way with probability about 6 x 2^-64 per pair.

Floats. The uniforms are exact in float64 and every operation but ``log``, ``cos`` and ``sin``
is correctly rounded by IEEE 754 on every device; those three differ between implementations
(CPU SLEEF, glibc, CUDA libdevice) by at most a few float64 ulps. After rounding to float32
the values are therefore bitwise equal on every device except where the exact value lies
within a few float64 ulps of a float32 rounding boundary: a few in 10^8 elements, and there
they differ by one float32 ulp (2^-24 relative). A 1-ulp change moves a noisy pixel by about
``beta |eps| 2^-24`` (< 1e-7 at beta 1); it can change a vote only if a draw lies that close to
the base classifier's decision boundary and that draw decides the majority, which is far rarer
than the float differences of the network's own forward pass between devices. |eps| is at most
6.77 (the smallest uniform is 2^-33); a standard normal exceeds that with probability 1.3e-11.
"""
from __future__ import annotations

import math

import torch

ENGINE = "SplitMix64, Box-Muller in float64"  # the environment record names the noise by this

VOTE_STREAM = 0        # certification: the vote (selection) draws of a test image
CERT_STREAM = 1        # certification: the n draws behind the radius
TRAIN_STREAM = 2       # noise-augmented training (index = optimizer step, draw = sample in it)
ACCURACY_STREAM = 3    # the accuracy on noisy test images (index = test image, draw 0)

GOLDEN = 0x9E3779B97F4A7C15                            # SplitMix64's increment (odd)
MIX_A, MIX_B = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # Mix13's multipliers
WORD_LIMIT = 1 << 32   # streams, items and draws are numbered below 2^32
_U64 = (1 << 64) - 1

_TWO_M32 = 2.0 ** -32
_ANGLE = 2.0 * math.pi * _TWO_M32


def as_int64(v: int) -> int:
    """The int64 (two's complement) spelling of the 64-bit word ``v mod 2^64``."""
    v &= _U64
    return v - (1 << 64) if v >> 63 else v


_G, _A, _B = as_int64(GOLDEN), as_int64(MIX_A), as_int64(MIX_B)


def mix64_int(z: int) -> int:
    """Stafford's Mix13 of a 64-bit word, with Python integers (for scalars)."""
    z &= _U64
    z = ((z ^ (z >> 30)) * MIX_A) & _U64
    z = ((z ^ (z >> 27)) * MIX_B) & _U64
    return z ^ (z >> 31)


def mix64(z: torch.Tensor) -> torch.Tensor:
    """Stafford's Mix13 of int64 tensor ``z`` (64-bit words in two's complement), in place;
    returns ``z``. Bit for bit :func:`mix64_int` on every device: ``x >>> k`` is the
    arithmetic shift masked to its low 64 - k bits, and int64 products wrap modulo 2^64."""
    for shift, mult in ((30, _A), (27, _B)):
        z.bitwise_xor_(z.bitwise_right_shift(shift).bitwise_and_((1 << (64 - shift)) - 1)).mul_(mult)
    return z.bitwise_xor_(z.bitwise_right_shift(31).bitwise_and_((1 << 33) - 1))


def splitmix64(state, counter: torch.Tensor) -> torch.Tensor:
    """Output number ``counter`` (from 0) of SplitMix64 started at ``state``: an int64 tensor
    and an int64 tensor or int that broadcast (64-bit words in two's complement); a new int64
    tensor on the counter's device. Guarantee: equals
    the reference ``splitmix64.c`` seeded with ``state`` (as an unsigned word) after
    ``counter`` earlier calls, on every device."""
    return mix64(torch.add(counter, 1).mul_(_G) + state)


def _counter_column(values, device) -> torch.Tensor:
    """A name per row as an int64 column on ``device``; values on the host are checked to lie
    in [0, 2^32) (a tensor already on an accelerator is taken as it is: no sync)."""
    t = torch.as_tensor(values, dtype=torch.int64)
    if t.device.type == "cpu" and t.numel() and (int(t.min()) < 0 or int(t.max()) >= WORD_LIMIT):
        raise ValueError(f"items and draws must be numbered in [0, 2^32), got values in "
                         f"[{int(t.min())}, {int(t.max())}]")
    return t.to(device).reshape(-1, 1)


def row_states(seed: int, stream: int, index, draw, device=None) -> torch.Tensor:
    """The SplitMix64 starting state of each row (draw ``draw[m]`` of item ``index[m]`` in
    ``stream``): int64 [R, 1] on ``device``, as the module docstring defines it."""
    seed, stream = int(seed), int(stream)
    if not 0 <= seed < 1 << 64:
        raise ValueError(f"a noise seed must be in [0, 2^64), got {seed}")
    if not 0 <= stream < WORD_LIMIT:
        raise ValueError(f"stream must be in [0, 2^32), got {stream}")
    if device is None:
        device = index.device if isinstance(index, torch.Tensor) else torch.device("cpu")
    index, draw = _counter_column(index, device), _counter_column(draw, device)
    if index.shape != draw.shape:
        raise ValueError(f"index and draw differ in length: {index.shape[0]} and {draw.shape[0]}")
    s1 = as_int64(mix64_int(seed + (stream + 1) * GOLDEN))
    return splitmix64(splitmix64(s1, index), draw)


def normals(seed: int, stream: int, index, draw, shape, device=None) -> torch.Tensor:
    """Standard-normal draws: row ``m`` is draw ``draw[m]`` of item ``index[m]`` in ``stream``.

    ``index`` and ``draw`` are 1-D integer sequences of one length R (numpy arrays, lists or
    tensors; values in [0, 2^32)); returns float32 [R, *shape] on ``device`` (default: the
    device of ``index`` if it is a tensor, else the CPU), made there: nothing is copied to it
    but the R names. Guarantee: element j of row m (in the row-major order of ``shape``) is
    a function of ``(seed, stream, index[m], draw[m], j)`` alone, the same for any other rows
    beside it, any order of the rows, any ``shape`` with at least j + 1 elements, and any
    device up to the rare float32 ulp described in the module docstring (the words: identical).
    """
    state = row_states(seed, stream, index, draw, device)
    rows, size = state.shape[0], math.prod(shape)
    pairs = (size + 1) // 2
    z = splitmix64(state, torch.arange(pairs, dtype=torch.int64, device=state.device).view(1, -1))
    r = z.bitwise_and(0xFFFFFFFF).to(torch.float64).add_(0.5).mul_(_TWO_M32).log_().mul_(-2.0).sqrt_()
    theta = z.bitwise_right_shift_(32).to(torch.float64).mul_(_ANGLE)
    out = torch.empty(rows, pairs, 2, dtype=torch.float32, device=state.device)
    torch.mul(r, torch.cos(theta), out=out[..., 0])
    torch.mul(r, theta.sin_(), out=out[..., 1])
    flat = out.view(rows, 2 * pairs)
    if 2 * pairs != size:
        flat = flat[:, :size].contiguous()
    return flat.view(rows, *shape)
