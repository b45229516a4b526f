"""Common random numbers in training: within a seed every h_alpha sees the same batches and the
same noise directions eps, scaled by its alpha; seeds stay independent."""
import pytest
import torch

from pipeline import recipe
from rsmooth import training

STEP = 48  # image i is the constant i / STEP


def inputs_seen(alpha: float, seed: int, common: bool, augment: str = "none") -> torch.Tensor:
    """Every input batch the network saw in two epochs of training at ``alpha``. Image i is the
    constant i / STEP (pixels in [0, 1]), so rounding an input to the step names its image and
    the rest is alpha * eps (alpha small: |alpha eps| stays below half a step)."""
    n = 24
    x = (torch.arange(n, dtype=torch.float32) / STEP).view(n, 1, 1, 1).expand(n, 1, 6, 6).contiguous()
    y = torch.arange(n) % 2
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(36, 2))
    seen = []
    model.register_forward_hook(lambda m, inp, out: seen.append(inp[0].detach().clone()))
    cfg = recipe(epochs=2, batch_size=5, copies=2, micro_batch=4, optimizer="sgd",
                               lr=0.01, augment=augment)
    training.train(model, x, y, alpha, cfg, training.train_seed(seed, alpha, common),
                   torch.device("cpu"), log=lambda *a: None)
    return torch.cat(seen)


def split(seen: torch.Tensor, alpha: float):
    images = (seen * STEP).round() / STEP
    return images, (seen - images) / alpha


def test_two_alphas_of_one_seed_see_the_same_batches_and_the_same_eps_up_to_the_scale():
    img_a, eps_a = split(inputs_seen(0.001, seed=3, common=True), 0.001)
    img_b, eps_b = split(inputs_seen(0.0005, seed=3, common=True), 0.0005)
    assert torch.equal(img_a, img_b)  # the same images in the same order, the same copies
    assert torch.allclose(eps_a, eps_b, atol=5e-4)  # float32 rounding of x + alpha * eps
    assert 0.8 < eps_a.std() < 1.2  # standard normal directions


def test_without_common_noise_the_alphas_draw_their_own_batches_and_noise():
    img_a, eps_a = split(inputs_seen(0.001, seed=3, common=False), 0.001)
    img_b, eps_b = split(inputs_seen(0.0005, seed=3, common=False), 0.0005)
    assert not torch.equal(img_a, img_b)
    assert not torch.allclose(eps_a, eps_b, atol=0.1)


def test_seeds_stay_independent_with_common_noise():
    img_a, eps_a = split(inputs_seen(0.001, seed=3, common=True), 0.001)
    img_b, eps_b = split(inputs_seen(0.001, seed=4, common=True), 0.001)
    assert not torch.equal(img_a, img_b)
    assert abs(torch.corrcoef(torch.stack([eps_a.flatten(), eps_b.flatten()]))[0, 1]) < 0.1


@pytest.mark.parametrize("alpha", [0.25, 0.5])
def test_the_training_seed_ignores_alpha_only_with_common_noise(alpha):
    assert training.train_seed(7, alpha, True) == training.train_seed(7, 0.1, True)
    assert training.train_seed(7, alpha, False) != training.train_seed(7, 0.1, False)
    assert training.train_seed(7, alpha, True) != training.train_seed(8, alpha, True)


def _inputs(model_inputs, x, y, alpha, cfg, seed):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(x[0].numel(), 2))
    model.register_forward_hook(lambda m, inp, out: model_inputs.append(inp[0].detach().clone()))
    training.train(model, x, y, alpha, cfg, seed, torch.device("cpu"), log=lambda *a: None)
    return torch.cat(model_inputs)


def test_training_noise_is_the_generators_training_stream_whatever_the_micro_batches():
    """On zero images with alpha = 1 the network sees eps itself: sample r of optimizer step t
    gets draw r of item t in rng.TRAIN_STREAM under the run's seed, in any micro-batching."""
    from rsmooth import rng

    x, y = torch.zeros(10, 1, 3, 3), torch.arange(10) % 2
    seen = {}
    for micro in (3, 8):
        cfg = recipe(epochs=2, batch_size=4, copies=2, micro_batch=micro, optimizer="sgd", lr=0.01)
        seen[micro] = _inputs([], x, y, 1.0, cfg, seed=77)
    assert torch.equal(seen[3], seen[8])
    rows = [8, 8, 4] * 2  # 3 steps per epoch: 4 + 4 + 2 images, 2 copies each
    expected = torch.cat([rng.normals(77, rng.TRAIN_STREAM, [t] * m, range(m), (1, 3, 3))
                          for t, m in enumerate(rows)])
    assert torch.equal(seen[3], expected)
    assert torch.equal(training.train_noise(77, 4, 8, (1, 3, 3), "cpu"), expected[28:36])  # step 4: rows 28-35
    # never the certification draws of the same seed and numbers
    assert not torch.equal(expected[:8], rng.normals(77, rng.VOTE_STREAM, [0] * 8, range(8), (1, 3, 3)))


def test_the_noisy_accuracy_draws_one_named_draw_per_image_whatever_the_batch_size():
    from rsmooth import rng

    x, y = torch.rand(11, 1, 3, 3) * 0.5, torch.zeros(11, dtype=torch.long)
    seen = {}
    for bs in (2, 11):
        inputs = []
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(9, 2))
        model.register_forward_hook(lambda m, inp, out: inputs.append(inp[0].detach().clone()))
        training.accuracy(model, x, y, torch.device("cpu"), batch_size=bs, noise=0.25, seed=5)
        seen[bs] = torch.cat(inputs)
    assert torch.equal(seen[2], seen[11])
    eps = rng.normals(5, rng.ACCURACY_STREAM, range(11), [0] * 11, (1, 3, 3))
    assert torch.equal(seen[2], x + 0.25 * eps)
