import copy
from pathlib import Path

import pytest
import yaml

from rsmooth.config import ConfigError, fmt, grid, radius_pairs, validate_config

REPO = Path(__file__).resolve().parents[1]


def base():
    with open(REPO / "config.yaml") as f:
        return yaml.safe_load(f)


def with_(path, value):
    cfg = base()
    node = cfg
    for k in path[:-1]:
        node = node[k]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return cfg


def test_shipped_presets_validate_and_fill_defaults():
    cfg = validate_config(base())
    assert cfg["datasets"]["mnist"]["train"]["noisy"]["micro_batch"] == 128
    assert cfg["datasets"]["mnist"]["certify"]["failure_prob"] == 0.001
    paper = copy.deepcopy(base())
    with open(REPO / "config" / "paper.yaml") as f:
        over = yaml.safe_load(f)
    for name, ds in over["datasets"].items():
        paper["datasets"][name].update(ds)
    paper = validate_config(paper)
    assert len(grid(paper["datasets"]["cifar10"]["alphas"])) == 61
    assert len(grid(paper["datasets"]["mnist"]["alphas"])) == 100
    assert len(grid(paper["datasets"]["mnist"]["betas"])) == 10


@pytest.mark.parametrize("path, value, key, words", [
    (["datasets", "mnist", "betas"], [0, -0.1], "datasets.mnist.betas[1]", "less than the minimum"),
    (["datasets", "mnist", "betas"], [0, float("nan")], "datasets.mnist.betas[1]", "not a finite"),
    (["datasets", "mnist", "alphas"], [], "datasets.mnist.alphas", "should be non-empty"),
    (["datasets", "mnist", "alphas"], [0, 0.5, 0.5], "datasets.mnist.alphas", "non-unique"),
    (["datasets", "mnist", "alphas"], {"start": 1, "stop": 0, "step": 0.1}, "datasets.mnist.alphas", "below start"),
    (["datasets", "mnist", "alphas"], {"start": 0, "stop": 1, "step": 0}, "datasets.mnist.alphas.step", "less than or equal"),
    (["datasets", "mnist", "source"], "imagenet", "datasets.mnist.source", "is not one of"),
    (["datasets", "mnist", "certify", "n_votes"], 0, "datasets.mnist.certify.n_votes", "less than the minimum of 1"),
    (["datasets", "mnist", "certify", "failure_prob"], 1.0, "datasets.mnist.certify.failure_prob", "maximum"),
    (["datasets", "mnist", "certify", "failure_prob"], 0, "datasets.mnist.certify.failure_prob", "minimum"),
    (["datasets", "mnist", "train", "noisy", "epochs"], "nine", "datasets.mnist.train.noisy.epochs", "not of type 'integer'"),
    (["datasets", "mnist", "certify", "n_vote"], 100, "datasets.mnist.certify.n_vote", "unknown key"),
    (["seedz"], [0], "seedz", "unknown key"),
    (["seeds"], [], "seeds", "should be non-empty"),
    (["datasets", "mnist", "certify", "radius_pairs"], [[0.3, 0.25]], "datasets.mnist.certify.radius_pairs[0]", "not on the alpha x beta grid"),
    (["datasets", "mnist", "alphas"], KeyError, "datasets.mnist", "'alphas' is a required property"),
    (["datasets", "mnist", "arch"], "mynets", "datasets.mnist.arch", "package.module:function"),
    (["datasets", "mnist", "models"], "ck/h.pt", "datasets.mnist.models", "by {alpha}"),
    (["datasets", "mnist", "models"], "ck/{alpha}_{beta}.pt", "datasets.mnist.models", "found {beta}"),
    (["datasets", "mnist", "normalize"], {"mean": [0.5], "std": [0.5, 0.5]}, "datasets.mnist.normalize", "1 means but 2 stds"),
    (["datasets", "mnist", "normalize"], {"mean": [0.5], "std": [0]}, "datasets.mnist.normalize.std[0]", "minimum"),
])
def test_bad_configs_are_refused_with_the_key(path, value, key, words):
    with pytest.raises(ConfigError) as e:
        validate_config(with_(path, value))
    msg = str(e.value)
    assert f"config key {key}" in msg and words in msg, msg


def test_models_of_your_own_validate():
    cfg = with_(["datasets", "mnist", "arch"], "my_pkg.nets:small_cnn")
    cfg["datasets"]["mnist"].update(models="ck/alpha{alpha}_seed{seed}.pt", normalize={"mean": [0.5], "std": [0.5]})
    ds = validate_config(cfg)["datasets"]["mnist"]
    assert ds["arch"] == "my_pkg.nets:small_cnn" and ds["normalize"] == {"mean": [0.5], "std": [0.5]}
    assert validate_config(base())["datasets"]["mnist"]["models"] is None


def test_grid_expansion_and_names():
    assert grid({"start": 0, "stop": 0.3, "step": 0.1}) == [0.0, 0.1, 0.2, 0.3]
    assert grid([0.5, 0, 0.25]) == [0.0, 0.25, 0.5]
    assert len(grid({"start": 0, "stop": 0.99, "step": 0.01})) == 100
    assert [fmt(x) for x in (0.0, 0.1, 0.25, 1.0, 0.30000000000000004)] == ["0", "0.1", "0.25", "1", "0.3"]


def test_radius_pairs():
    cfg = validate_config(base())
    ds = cfg["datasets"]["mnist"]
    assert radius_pairs(ds) == [("0.5", "0.5"), ("0.7", "0.7")]  # alpha = beta > 0 on both grids
    ds["certify"]["n_cert"] = 0
    assert radius_pairs(ds) == []


def test_cluster_runtime_grows_with_the_attempt_number():
    from rsmooth import sizing

    ds = validate_config(base())["datasets"]["mnist"]
    first = sizing.certify_minutes(ds, radius=False)
    # 500 images x 100 draws at 2000/s, 60 s overhead, safety 3: ceil(3 x 85 / 60) = 5 minutes
    assert first == 5
    assert [sizing.certify_minutes(ds, False, attempt=k) for k in (1, 2, 3)] == [5, 10, 15]
    assert sizing.train_minutes(ds, base=False, attempt=2) == 2 * sizing.train_minutes(ds, base=False)
    assert sizing.certify_minutes(ds, radius=True) > first  # radius jobs draw n_cert more
