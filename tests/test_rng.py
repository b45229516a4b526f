"""The counter-based generator (rsmooth.rng): SplitMix64 against the reference
implementation's published outputs and a plain-integer transcription of the documented
definition, the normals' distribution, and the invariances the statistics rely on (a value
depends on its name only)."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from rsmooth import rng

U64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15

# Vigna's reference splitmix64.c started at 1477776061723855037: its first outputs, as the
# rand_xoshiro crate's test "reference" (rust-random/rngs, rand_xoshiro/src/splitmix64.rs) lists them.
REFERENCE_SEED = 1477776061723855037
REFERENCE = [1985237415132408290, 2979275885539914483, 13511426838097143398, 8488337342461049707,
             15141737807933549159, 17093170987380407015, 16389528042912955399, 13177319091862933652,
             10841969400225389492, 17094824097954834098, 3336622647361835228, 9678412372263018368,
             11111587619974030187]


def mix13(z):
    """Stafford's Mix13 with Python integers, transcribed from splitmix64.c."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & U64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & U64
    return z ^ (z >> 31)


def splitmix_reference(state, m):
    """Output m (from 0) of splitmix64.c started at ``state``."""
    return mix13((state + (m + 1) * GOLDEN) & U64)


def state_reference(seed, stream, index, draw):
    """The documented starting state of a row."""
    s = mix13((seed + (stream + 1) * GOLDEN) & U64)
    s = mix13((s + (index + 1) * GOLDEN) & U64)
    return mix13((s + (draw + 1) * GOLDEN) & U64)


def unsigned(t):
    return [int(v) & U64 for v in t.reshape(-1).tolist()]


def test_splitmix64_reproduces_the_reference_implementations_published_outputs():
    assert [splitmix_reference(REFERENCE_SEED, m) for m in range(len(REFERENCE))] == REFERENCE
    state = torch.tensor(rng.as_int64(REFERENCE_SEED))
    assert unsigned(rng.splitmix64(state, torch.arange(len(REFERENCE)))) == REFERENCE
    # one state per row, a counter per column, as the engine calls it
    states = torch.tensor([[rng.as_int64(REFERENCE_SEED)], [0], [-1]])
    got = rng.splitmix64(states, torch.arange(5).view(1, -1))
    for r, s in enumerate((REFERENCE_SEED, 0, U64)):
        assert unsigned(got[r]) == [splitmix_reference(s, m) for m in range(5)]


def test_mix64_on_tensors_equals_the_integer_transcription_on_edge_and_random_words():
    g = np.random.default_rng(5)
    words = [0, 1, (1 << 63) - 1, 1 << 63, U64, 0xFFFFFFFF, 1 << 32] + [int(v) for v in g.integers(0, U64, 500, dtype=np.uint64)]
    t = torch.tensor([rng.as_int64(w) for w in words])
    before = t.clone()
    assert unsigned(rng.mix64(t)) == [mix13(w) for w in words]
    assert not torch.equal(t, before)  # in place, as documented
    assert [rng.mix64_int(w) for w in words] == [mix13(w) for w in words]


def draws(seed=0, stream=0, index=(0,), draw=(0,), shape=(16,)):
    return rng.normals(seed, stream, list(index), list(draw), shape)


def test_normals_are_the_documented_box_muller_of_the_documented_words():
    seed, stream, index, draw = 2**63 + 9, 3, 2**32 - 1, 4
    state = state_reference(seed, stream, index, draw)
    assert unsigned(rng.row_states(seed, stream, [index], [draw])) == [state]
    z = rng.normals(seed, stream, [index], [draw], (9,))[0].numpy()
    expected = []
    for m in range(5):
        w = splitmix_reference(state, m)
        a, b = w & 0xFFFFFFFF, w >> 32
        b -= (1 << 32) if b >> 31 else 0  # the high word as a signed integer
        r = math.sqrt(-2.0 * math.log((a + 0.5) * 2.0 ** -32))
        theta = 2.0 * math.pi * 2.0 ** -32 * b
        expected += [r * math.cos(theta), r * math.sin(theta)]
    np.testing.assert_allclose(z, np.float32(expected[:9]), rtol=2 ** -23, atol=0)


def test_rows_of_neighbouring_names_never_share_noise():
    """Two rows share noise only if their states lie within a row's length of each other on
    the sequence s + m G. The positions s G^-1 mod 2^64 of 100,000 rows of neighbouring
    names (the engine's pattern: consecutive images and draws, every stream) are far apart."""
    index, draw = np.meshgrid(np.arange(100), np.arange(250), indexing="ij")
    states = np.concatenate([rng.row_states(0, s, index.ravel(), draw.ravel()).numpy().ravel()
                             for s in range(4)]).view(np.uint64)
    inverse = np.uint64(pow(GOLDEN, -1, 1 << 64))
    with np.errstate(over="ignore"):
        position = np.sort(states * inverse)
    gaps = np.diff(position)
    assert len(position) == 100_000 and gaps.min() > 2 * 3072  # CIFAR-10's rows have 1,536 words


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
        assert torch.equal(longer[:25], together[m].flatten())  # a prefix: 25 elements end inside a word
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


def test_streams_are_distinct():
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
    # the cosine and the sine elements on their own, and the tails
    for lane in range(2):
        assert stats.kstest(sample[:, lane::2].ravel(), "norm").pvalue > 1e-4
    tail = (np.abs(z) > 3).mean()
    assert abs(tail - 2 * stats.norm.sf(3)) < 5 * math.sqrt(2 * stats.norm.sf(3) / n)
    assert stats.anderson(z[:200_000], "norm", method="interpolate").pvalue > 0.01
    assert np.isfinite(z).all()  # no uniform is 0 (the smallest is 2^-33: |z| <= sqrt(66 ln 2) = 6.76)


def test_box_muller_pairs_have_an_exponential_radius_and_a_uniform_angle(sample):
    x, y = sample[:, 0::2].ravel(), sample[:, 1::2].ravel()
    assert stats.kstest(x * x + y * y, "expon", args=(0, 2)).pvalue > 1e-4
    assert stats.kstest((np.arctan2(y, x) + np.pi) / (2 * np.pi), "uniform").pvalue > 1e-4


def test_neighbouring_words_and_draws_are_uncorrelated(sample):
    rows = sample.reshape(64, 40, 784)
    bound = 5 / math.sqrt(rows[:, :, :-4].size)

    def corr(a, b):
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    assert abs(corr(rows[..., 0::2], rows[..., 1::2])) < bound * 1.5  # the two normals of a pair
    assert abs(corr(rows[..., :-1], rows[..., 1:])) < bound           # neighbouring elements
    assert abs(corr(rows[..., :-2], rows[..., 2:])) < bound           # neighbouring words
    assert abs(corr(rows[:, :-1], rows[:, 1:])) < bound               # draw k and k + 1
    assert abs(corr(rows[:-1], rows[1:])) < bound                     # item i and i + 1
    assert abs(corr(rows ** 2, np.roll(rows, 2, axis=2) ** 2)) < bound  # and their squares


def test_raw_words_are_uniform_in_their_top_and_bottom_bits():
    state = rng.row_states(0, 0, np.arange(64), np.zeros(64, dtype=np.int64))
    words = rng.splitmix64(state, torch.arange(1024).view(1, -1)).numpy().ravel().view(np.uint64)
    for bits in (words >> np.uint64(56), words & np.uint64(0xFF), (words >> np.uint64(28)) & np.uint64(0xFF)):
        counts = np.bincount(bits.astype(np.int64), minlength=256)
        assert stats.chisquare(counts).pvalue > 1e-4


def test_float32_values_are_the_correctly_rounded_box_muller_but_for_rare_one_ulp_cases():
    """The documented accuracy, checked against an independent evaluation in extended
    precision (numpy's longdouble; where that is only double, another libm): the float32
    values differ from it in at most a few per million elements, by one ulp. Those are the
    cases where two devices' libraries can disagree."""
    n_items = 400
    z = rng.normals(5, 2, np.arange(n_items), np.zeros(n_items, int), (1024,)).numpy().reshape(-1, 2)
    state = rng.row_states(5, 2, np.arange(n_items), np.zeros(n_items, int))
    w = rng.splitmix64(state, torch.arange(512).view(1, -1)).numpy().ravel()
    a = (w & 0xFFFFFFFF).astype(np.longdouble)
    b = (w >> 32).astype(np.longdouble)  # arithmetic shift: the high word as a signed integer
    two32 = np.longdouble(2) ** -32
    r = np.sqrt(-2 * np.log((a + np.longdouble(0.5)) * two32))
    theta = 2 * np.longdouble(np.pi) * two32 * b
    ref = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
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
    index, draw = torch.full((64,), 9), torch.arange(64)
    cpu = rng.splitmix64(rng.row_states(123, 1, index, draw), torch.arange(4096).view(1, -1))
    gpu = rng.splitmix64(rng.row_states(123, 1, index.cuda(), draw.cuda()), torch.arange(4096).cuda().view(1, -1))
    assert torch.equal(cpu, gpu.cpu())
    a = rng.normals(123, 1, index, draw, (8192,))
    b = rng.normals(123, 1, index.cuda(), draw.cuda(), (8192,)).cpu()
    differ = a != b
    assert differ.double().mean() < 1e-6
    assert (a.view(torch.int32) - b.view(torch.int32)).abs().max() <= 1
