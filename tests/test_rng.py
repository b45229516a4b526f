"""The counter-based generator (rsmooth.rng): Philox-4x32-10 against Random123's published
known answers and a plain-integer transcription of the algorithm, the normals' distribution,
and the invariances the statistics rely on (a value depends on its name only)."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from rsmooth import rng

MASK = 0xFFFFFFFF

# Random123 1.14 (D. E. Shaw Research), tests/kat_vectors: "philox4x32 R  ctr[4] key[2]  out[4]".
KAT = [
    (10, (0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (10, (MASK,) * 4, (MASK,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (10, (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
    (7, (0, 0, 0, 0), (0, 0), (0x5F6FB709, 0x0D893F64, 0x4F121F81, 0x4F730A48)),
    (7, (MASK,) * 4, (MASK,) * 2, (0x5207DDC2, 0x45165E59, 0x4D8EE751, 0x8C52F662)),
    (7, (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0x4DFCCABA, 0x190A87F0, 0xC47362BA, 0xB6B5242A)),
]


def philox_reference(ctr, key, rounds=10):
    """Salmon et al.'s Philox-4x32-R with Python integers, one counter at a time."""
    c, (k0, k1) = list(ctr), key
    for r in range(rounds):
        if r:
            k0, k1 = (k0 + 0x9E3779B9) & MASK, (k1 + 0xBB67AE85) & MASK
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & MASK, (p0 >> 32) ^ c[3] ^ k1, p0 & MASK]
    return tuple(c)


def column(a):
    return torch.as_tensor(np.asarray(a, dtype=np.int64))


@pytest.mark.parametrize("rounds,ctr,key,expected", KAT)
def test_philox_reproduces_random123_known_answers(rounds, ctr, key, expected):
    assert philox_reference(ctr, key, rounds) == expected
    got = rng.philox4x32(*ctr, key, rounds=rounds)
    assert tuple(int(w) for w in got) == expected
    # the same as tensors, with the counter inside a batch of others
    words = [torch.tensor([3, v, 17]) for v in ctr]
    out = rng.philox4x32(*words, key, rounds=rounds)
    assert tuple(int(w[1]) for w in out) == expected


def test_philox_equals_the_integer_transcription_on_random_counters_and_broadcast_shapes():
    g = np.random.default_rng(5)
    ctr = g.integers(0, 1 << 32, (4, 300), dtype=np.int64)
    key = (int(g.integers(0, 1 << 32)), int(g.integers(0, 1 << 32)))
    expected = np.array([philox_reference(tuple(int(v) for v in ctr[:, m]), key) for m in range(300)]).T
    words = [column(ctr[w]) for w in range(4)]
    before = [w.clone() for w in words]
    got = torch.stack(rng.philox4x32(*words, key)).numpy()
    np.testing.assert_array_equal(got, expected)
    for w, b in zip(words, before):
        assert torch.equal(w, b)  # inputs untouched
    # the engine's shapes: block [1, B], draw and index [R, 1], stream an int
    block, draw, index = np.arange(6), np.array([0, 5, 2**32 - 1]), np.array([7, 7, 123456])
    got = torch.stack(rng.philox4x32(column(block).view(1, -1), column(draw).view(-1, 1),
                                     column(index).view(-1, 1), 3, key))
    for r in range(3):
        for b in range(6):
            assert tuple(int(v) for v in got[:, r, b]) == philox_reference((b, int(draw[r]), int(index[r]), 3), key)


def draws(seed=0, stream=0, index=(0,), draw=(0,), shape=(16,)):
    return rng.normals(seed, stream, list(index), list(draw), shape)


def test_normals_are_the_documented_box_muller_of_the_philox_words():
    key = rng.key_words(2**40 + 9)
    assert key == (9, 256)
    w = [int(v) for v in rng.philox4x32(1, 4, 6, 0, key)]  # counter (block 1, draw 4, item 6, stream 0)
    z = rng.normals(2**40 + 9, 0, [6], [4], (8,))[0, 4:8]
    expected = []
    for a, b in ((w[0], w[1]), (w[2], w[3])):
        r = math.sqrt(-2.0 * math.log((a + 0.5) * 2.0 ** -32))
        theta = 2.0 * math.pi * 2.0 ** -32 * b
        expected += [r * math.cos(theta), r * math.sin(theta)]
    np.testing.assert_allclose(z.numpy(), np.float32(expected), rtol=2 ** -23, atol=0)


def test_a_value_depends_only_on_its_name():
    """Element j of draw k of item i in a stream: the same whatever rows are beside it, in
    which order, in what chunks, and whatever the shape's size beyond j."""
    pairs = [(i, k) for i in (0, 3, 2**32 - 1) for k in (0, 1, 99, 2**31)]
    together = draws(7, 1, [i for i, _ in pairs], [k for _, k in pairs], (1, 5, 5))
    assert together.shape == (12, 1, 5, 5) and together.dtype == torch.float32
    perm = np.random.default_rng(0).permutation(len(pairs))
    shuffled = draws(7, 1, [pairs[p][0] for p in perm], [pairs[p][1] for p in perm], (1, 5, 5))
    assert torch.equal(shuffled, together[perm])
    for m, (i, k) in enumerate(pairs):
        alone = draws(7, 1, [i], [k], (1, 5, 5))[0]
        assert torch.equal(alone, together[m])
        longer = draws(7, 1, [i], [k], (100,))[0]
        assert torch.equal(longer[:25], together[m].flatten())  # a prefix: 25 is not a multiple of 4
    # 100 draws at once equal 30, 1 and 69 draws asked for in turn (the early stop's chunks)
    at_once = draws(3, 0, [17] * 100, range(100))
    chunks = torch.cat([draws(3, 0, [17] * len(r), r) for r in (range(30), range(30, 31), range(31, 100))])
    assert torch.equal(at_once, chunks)


@pytest.mark.parametrize("change", ["seed", "stream", "index", "draw", "train stream"])
def test_every_part_of_the_name_changes_the_values(change):
    base = dict(seed=3, stream=rng.VOTE_STREAM, index=(17,), draw=(5,), shape=(64,))
    other = dict(base, **{"seed": {"seed": 4}, "stream": {"stream": rng.CERT_STREAM}, "index": {"index": (18,)},
                          "draw": {"draw": (6,)}, "train stream": {"stream": rng.TRAIN_STREAM}}[change])
    a, b = draws(**base)[0], draws(**other)[0]
    assert not torch.equal(a, b)
    assert abs(float(torch.corrcoef(torch.stack([a, b]))[0, 1])) < 0.5


def test_streams_never_share_a_counter():
    assert len({rng.VOTE_STREAM, rng.CERT_STREAM, rng.TRAIN_STREAM, rng.ACCURACY_STREAM}) == 4


@pytest.fixture(scope="module")
def sample():
    """About 2 million normals: 2,560 draws of 784 elements over 64 items."""
    idx = np.repeat(np.arange(64), 40)
    return rng.normals(11, 0, idx, np.tile(np.arange(40), 64), (784,)).double().numpy()


def test_moments_and_normality_of_a_large_sample(sample):
    z = sample.ravel()
    n = len(z)
    assert abs(z.mean()) < 5 / math.sqrt(n)
    assert abs(z.var() - 1) < 5 * math.sqrt(2 / n)
    assert abs(stats.skew(z)) < 5 * math.sqrt(6 / n)
    assert abs(stats.kurtosis(z)) < 5 * math.sqrt(24 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-4
    # each of the four lanes of a counter on its own, and the tails
    for lane in range(4):
        assert stats.kstest(sample[:, lane::4].ravel(), "norm").pvalue > 1e-4
    tail = (np.abs(z) > 3).mean()
    assert abs(tail - 2 * stats.norm.sf(3)) < 5 * math.sqrt(2 * stats.norm.sf(3) / n)
    assert stats.anderson(z[:200_000], "norm", method="interpolate").pvalue > 0.01
    assert np.abs(z).max() < 6.77  # the smallest uniform is 2^-33: |z| <= sqrt(66 ln 2)


def test_box_muller_pairs_have_an_exponential_radius_and_a_uniform_angle(sample):
    x, y = sample[:, 0::2].ravel(), sample[:, 1::2].ravel()
    assert stats.kstest(x * x + y * y, "expon", args=(0, 2)).pvalue > 1e-4
    assert stats.kstest((np.arctan2(y, x) + np.pi) / (2 * np.pi), "uniform").pvalue > 1e-4


def test_neighbouring_counters_and_draws_are_uncorrelated(sample):
    rows = sample.reshape(64, 40, 784)
    bound = 5 / math.sqrt(rows[:, :, :-4].size)

    def corr(a, b):
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    assert abs(corr(rows[..., 0::2], rows[..., 1::2])) < bound * 1.5  # the two normals of a pair
    assert abs(corr(rows[..., :-1], rows[..., 1:])) < bound           # neighbouring elements
    assert abs(corr(rows[..., :-4], rows[..., 4:])) < bound           # neighbouring counters
    assert abs(corr(rows[:, :-1], rows[:, 1:])) < bound               # draw k and k + 1
    assert abs(corr(rows[:-1], rows[1:])) < bound                     # item i and i + 1
    assert abs(corr(rows ** 2, np.roll(rows, 4, axis=2) ** 2)) < bound  # and their squares


def test_raw_words_are_uniform_in_their_top_and_bottom_bits():
    words = torch.stack(rng.philox4x32(torch.arange(1 << 16).view(-1, 1), 0, 0, 0, (1, 0))).numpy().ravel()
    for bits in (words >> 24, words & 0xFF):
        counts = np.bincount(bits, minlength=256)
        assert stats.chisquare(counts).pvalue > 1e-4


def test_float32_values_are_the_correctly_rounded_box_muller_but_for_rare_one_ulp_cases():
    """The documented accuracy, checked against an independent evaluation in extended
    precision (numpy's longdouble; where that is only double, another libm): the float32
    values differ from it in at most a few per million elements, by one ulp. Those are the
    cases where two devices' libraries can disagree."""
    n_items = 400
    z = rng.normals(5, 2, np.arange(n_items), np.zeros(n_items, int), (1024,)).numpy().reshape(-1, 4)
    w = torch.stack(rng.philox4x32(torch.arange(256).view(1, -1), 0, torch.arange(n_items).view(-1, 1), 2,
                                   rng.key_words(5))).numpy().reshape(4, -1).T.astype(np.longdouble)
    two32 = np.longdouble(2) ** -32
    ref = np.empty(z.shape, dtype=np.longdouble)
    for k in range(2):
        r = np.sqrt(-2 * np.log((w[:, 2 * k] + np.longdouble(0.5)) * two32))
        theta = 2 * np.longdouble(np.pi) * two32 * w[:, 2 * k + 1]
        ref[:, 2 * k], ref[:, 2 * k + 1] = r * np.cos(theta), r * np.sin(theta)
    ref32 = ref.astype(np.float32)
    differ = z != ref32
    assert differ.mean() < 5e-6, differ.sum()
    ulps = np.abs(z.view(np.int32).astype(np.int64) - ref32.view(np.int32).astype(np.int64))
    assert ulps[differ].max(initial=0) <= 1


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="seed"):
        rng.normals(-1, 0, [0], [0], (4,))
    with pytest.raises(ValueError, match="seed"):
        rng.normals(2**64, 0, [0], [0], (4,))
    with pytest.raises(ValueError, match="stream"):
        rng.normals(0, 2**32, [0], [0], (4,))
    with pytest.raises(ValueError, match="2\\^32"):
        rng.normals(0, 0, [-1], [0], (4,))
    with pytest.raises(ValueError, match="2\\^32"):
        rng.normals(0, 0, [0], [2**32], (4,))
    with pytest.raises(ValueError, match="length"):
        rng.normals(0, 0, [0, 1], [0], (4,))
    assert rng.normals(0, 0, [], [], (4,)).shape == (0, 4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_gpu_draws_the_same_integers_and_the_same_floats_up_to_rare_ulps():
    key = rng.key_words(123)
    block, draw, index = torch.arange(2048).view(1, -1), torch.arange(64).view(-1, 1), torch.full((64, 1), 9)
    cpu = rng.philox4x32(block, draw, index, 1, key)
    gpu = rng.philox4x32(block.cuda(), draw.cuda(), index.cuda(), 1, key)
    for c, g in zip(cpu, gpu):
        assert torch.equal(c, g.cpu())
    a = rng.normals(123, 1, index.view(-1), draw.view(-1), (8192,))
    b = rng.normals(123, 1, index.view(-1).cuda(), draw.view(-1).cuda(), (8192,)).cpu()
    differ = a != b
    assert differ.double().mean() < 1e-6
    assert (a.view(torch.int32) - b.view(torch.int32)).abs().max() <= 1
