import itertools

import numpy as np
import pytest
import torch
from statsmodels.stats.proportion import proportion_confint

from rsmooth import core, rng
from rsmooth.models import PaperCNN


def tiny_net(k=4, dtype=torch.float64):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, k)).to(dtype)


def reference_counts(net, x, idx, n, beta, seed, k, stream=0):
    """The plain oracle: one image at a time, all n draws, counted in Python."""
    out = []
    for j in range(len(x)):
        eps = torch.from_numpy(core.noise(seed, idx[j], stream, n, tuple(x.shape[1:])))
        pred = net(x[j:j + 1] + beta * eps.to(x.dtype)).argmax(1)
        out.append([int((pred == c).sum()) for c in range(k)])
    return np.array(out)


def test_noise_depends_only_on_seed_index_stream_and_not_on_chunking():
    a = core.noise(3, 17, 0, 100, (1, 4, 4))
    assert a.shape == (100, 1, 4, 4) and a.dtype == np.float32
    np.testing.assert_array_equal(a[:30], core.noise(3, 17, 0, 30, (1, 4, 4)))
    np.testing.assert_array_equal(a, rng.normals(3, 0, [17] * 100, range(100), (1, 4, 4)).numpy())
    assert not np.array_equal(a, core.noise(3, 18, 0, 100, (1, 4, 4)))
    assert not np.array_equal(a, core.noise(4, 17, 0, 100, (1, 4, 4)))
    assert not np.array_equal(a, core.noise(3, 17, 1, 100, (1, 4, 4)))
    assert abs(a.mean()) < 0.1 and abs(a.std() - 1) < 0.1


@pytest.mark.parametrize("beta", [0.3, 1.5])
def test_noisy_inputs_are_the_same_eps_scaled_for_every_beta_and_batch_size(beta):
    """Record what the engine feeds the network: image i always gets x_i + beta * eps_i."""
    seen = []

    class Spy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

        def forward(self, z):
            seen.append(z.clone())
            return torch.zeros(len(z), 3, dtype=z.dtype)

    x = torch.rand(5, 1, 4, 4, dtype=torch.float64)
    got = {}
    for bs in (1, 7, 64):
        seen.clear()
        core.Smooth(Spy(), 3, beta, batch_size=bs, channels_last=False).vote(
            x, np.arange(5), 10, seed=1, early_stop=False)
        got[bs] = torch.cat(seen)
    eps = torch.from_numpy(np.concatenate([core.noise(1, i, 0, 10, (1, 4, 4)) for i in range(5)]))
    expected = x.repeat_interleave(10, 0) + beta * eps.double()
    for bs, z in got.items():
        torch.testing.assert_close(z, expected, rtol=0, atol=1e-12, msg=f"batch size {bs}")


@pytest.mark.parametrize("beta", [0.0, 0.3, 2.0])
def test_vote_equals_plain_reference_loop(beta):
    net = tiny_net()
    x = torch.rand(23, 1, 4, 4, dtype=torch.float64)
    idx = np.arange(100, 123)
    ref = reference_counts(net, x, idx, 40, beta, 7, 4)
    for bs, early in itertools.product([1, 5, 64, 1000], [False, True]):
        r = core.Smooth(net, 4, beta, batch_size=bs, channels_last=False).vote(
            x, idx, 40, seed=7, early_stop=early)
        np.testing.assert_array_equal(r.vote, ref.argmax(1), err_msg=f"bs={bs} early={early}")
        if not early:
            np.testing.assert_array_equal(r.counts, ref)
            assert (r.n_evals == (40 if beta > 0 else 1)).all()
        assert (r.counts.sum(1) == (r.n_evals if beta > 0 else 40)).all()


def test_early_stopping_saves_draws_at_small_beta_and_never_changes_the_vote():
    net = tiny_net()
    x = torch.rand(40, 1, 4, 4, dtype=torch.float64)
    r = core.Smooth(net, 4, 0.05, channels_last=False).vote(x, np.arange(40), 100, seed=0)
    assert r.n_evals.max() <= 100
    assert 1 - r.n_evals.sum() / (100 * 40) > 0.4  # a near-unanimous vote stops after 51 draws
    full = core.Smooth(net, 4, 0.05, channels_last=False).vote(x, np.arange(40), 100, seed=0, early_stop=False)
    np.testing.assert_array_equal(r.vote, full.vote)


def test_early_stopped_counts_are_those_of_each_images_first_draws():
    """An image that stops after n_evals draws has counted exactly its draws 0 .. n_evals - 1,
    whatever the batches they were made in."""
    net = tiny_net()
    x = torch.rand(12, 1, 4, 4, dtype=torch.float64)
    idx = np.arange(40, 52)
    for bs in (3, 50):
        r = core.Smooth(net, 4, 0.4, batch_size=bs, channels_last=False).vote(x, idx, 60, seed=2)
        assert (r.n_evals < 60).any()
        for j in range(12):
            ref = reference_counts(net, x[j:j + 1], idx[j:j + 1], int(r.n_evals[j]), 0.4, 2, 4)
            np.testing.assert_array_equal(r.counts[j], ref[0], err_msg=f"image {j}, batch {bs}")


def test_a_job_run_alone_or_in_another_order_gives_each_image_the_same_counts():
    net = tiny_net()
    x = torch.rand(9, 1, 4, 4, dtype=torch.float64)
    idx = np.arange(200, 209)
    s = core.Smooth(net, 4, 0.5, batch_size=16, channels_last=False)
    full = s.vote(x, idx, 50, seed=4, early_stop=False)
    some = [7, 2, 5]
    alone = s.vote(x[some], idx[some], 50, seed=4, early_stop=False)
    np.testing.assert_array_equal(alone.counts, full.counts[some])
    perm = np.random.default_rng(1).permutation(9)
    shuffled = s.vote(x[perm], idx[perm], 50, seed=4, early_stop=False)
    np.testing.assert_array_equal(shuffled.counts, full.counts[perm])


def test_noise_is_made_on_the_engines_device_once_per_forward_pass(monkeypatch):
    """No per-image loop and no noise copied from the host: each batch asks the generator once,
    for the device the network runs on."""
    calls, passes = [], []
    real = rng.normals

    def spy(seed, stream, index, draw, shape, device=None):
        calls.append((torch.device(device), len(index)))
        return real(seed, stream, index, draw, shape, device)

    monkeypatch.setattr(rng, "normals", spy)
    net = tiny_net()
    net.register_forward_hook(lambda m, i, o: passes.append(len(i[0])))
    x = torch.rand(10, 1, 4, 4, dtype=torch.float64)
    core.Smooth(net, 4, 0.3, batch_size=25, device="cpu", channels_last=False).vote(x, np.arange(10), 40, seed=0)
    assert len(calls) == len(passes) > 1
    assert [n for _, n in calls] == passes and all(d == torch.device("cpu") for d, _ in calls)


def test_draws_before_decision_is_exact_on_all_small_cases():
    """Brute force: 0 exactly when no completion can change argmax; otherwise k - 1 draws,
    all for the leader, still leave it undecided."""
    k_cls, n = 3, 6
    for counts in itertools.product(range(n + 1), repeat=k_cls):
        if sum(counts) > n:
            continue
        c = np.array([counts])
        rem = np.array([n - sum(counts)])
        k = core.draws_before_decision(c, rem)[0]
        lead = int(np.argmax(counts))
        completions = [np.array(counts) + np.bincount(comb, minlength=k_cls)
                       for comb in itertools.combinations_with_replacement(range(k_cls), int(rem[0]))]
        decided = all(int(np.argmax(f)) == lead for f in completions)
        assert (k == 0) == decided, (counts, k)
        if k > 1:
            c2 = c.copy()
            c2[0, lead] += k - 1
            assert core.draws_before_decision(c2, rem - (k - 1))[0] > 0, (counts, k)


def test_clopper_pearson_lower_matches_statsmodels():
    for k, n, fp in [(0, 10, 0.001), (5, 10, 0.001), (10, 10, 0.001), (990, 1000, 0.05), (37, 100, 0.01)]:
        expected = proportion_confint(k, n, alpha=2 * fp, method="beta")[0]
        assert core.clopper_pearson_lower(k, n, fp) == pytest.approx(expected, abs=1e-12)
    low, high = core.clopper_pearson_interval(7, 50)
    e = proportion_confint(7, 50, alpha=0.05, method="beta")
    assert (float(low), float(high)) == pytest.approx(e, abs=1e-12)


def test_radius_is_beta_times_phi_inverse_or_abstain():
    r = core.certified_radius(np.array([0.4, 0.5, 0.8413447460685429, 0.99]), 0.5)
    assert np.isnan(r[0])
    assert r[1] == 0.0
    assert r[2] == pytest.approx(0.5)
    assert r[3] == pytest.approx(0.5 * 2.3263478740408408)


def test_certify_radius_and_switch_off():
    net = tiny_net()
    x = torch.rand(6, 1, 4, 4, dtype=torch.float64)
    s = core.Smooth(net, 4, 0.2, channels_last=False)
    off = s.certify(x, np.arange(6), 30, 0, 0.001, seed=0)
    assert np.isnan(off.radius).all() and np.isnan(off.p_lower).all()
    on = s.certify(x, np.arange(6), 30, 200, 0.001, seed=0)
    ref = reference_counts(net, x, np.arange(6), 200, 0.2, 0, 4, stream=core.CERT_STREAM)
    np.testing.assert_array_equal(on.count_cert, ref[np.arange(6), on.vote.vote])
    p = core.clopper_pearson_lower(on.count_cert, 200, 0.001)
    np.testing.assert_allclose(on.radius, core.certified_radius(p, 0.2))
    zero = core.Smooth(net, 4, 0.0, channels_last=False).certify(x, np.arange(6), 30, 100, 0.001, seed=0)
    assert (zero.radius == 0).all() and (zero.count_cert == 100).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="beta"):
        core.Smooth(tiny_net(), 4, -1.0)
    with pytest.raises(ValueError, match="failure_prob"):
        core.Smooth(tiny_net(), 4, 0.1).certify(torch.rand(1, 1, 4, 4), [0], 10, 10, 1.5, 0)
    with pytest.raises(ValueError, match="n must be"):
        core.Smooth(tiny_net(), 4, 0.1).vote(torch.rand(1, 1, 4, 4), [0], 0, 0)


def test_paper_cnn_shape_and_layout():
    m = PaperCNN(1, 10, 28)
    assert m(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert m.fc1.in_features == 9216
    assert [tuple(p.shape) for p in m.parameters()] == [
        (32, 1, 3, 3), (32,), (64, 32, 3, 3), (64,), (128, 9216), (128,), (10, 128), (10,)]


def test_paper_cnn_equals_the_layer_by_layer_network():
    m = PaperCNN(1, 10, 28).double()
    plain = torch.nn.Sequential(m.conv1, torch.nn.ReLU(), m.conv2, torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), m.fc1, torch.nn.ReLU(), m.fc2)
    x = torch.rand(4, 1, 28, 28, dtype=torch.float64)
    torch.testing.assert_close(m(x), plain(x), rtol=0, atol=1e-12)
    # and the same gradients, which training relies on
    y = torch.tensor([1, 2, 3, 4])
    grads = []
    for net in (m, plain):
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        grads.append([p.grad.clone() for p in m.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
