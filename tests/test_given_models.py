"""Models that the pipeline did not train (docs/own_models.md): checkpoints of your own
(`models:`), architectures of your own (`arch: module:function`) and the normalisation inside
the base classifier (`normalize:`). The end-to-end tests run the page's own three files."""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from conftest import REPO
from pipeline import planned_jobs, run_script, snakemake, tiny_config, tiny_mnist
from rsmooth import core, models, provenance, runtime

EXAMPLE = REPO / "docs" / "own_models.md"
OWN = ("--configfile", "own.yaml")
ARCH = """from torch import nn


def make(channels, classes, image_size):
    return nn.Sequential(nn.Flatten(), nn.Linear(channels * image_size ** 2, classes))
"""


def example_files() -> dict[str, str]:
    """{name: text} of the files of docs/own_models.md: the block after each `<!-- file: NAME -->`."""
    return dict(re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", EXAMPLE.read_text(), re.DOTALL))


def plan(wd) -> dict[str, int]:
    r = snakemake(wd, "-n", "--quiet", "rules", *OWN)
    return planned_jobs(wd, r.stdout + r.stderr)


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """The example of docs/own_models.md on a copy of .test/: (folder, dry-run plan before the run)."""
    wd = tmp_path_factory.mktemp("own") / "own"
    shutil.copytree(REPO / ".test", wd, ignore=shutil.ignore_patterns("results", ".snakemake"))
    files = example_files()
    assert sorted(files) == ["mynets.py", "own.yaml", "train_own.py"]
    for name, text in files.items():
        (wd / name).write_text(text)
    subprocess.run([sys.executable, "train_own.py"], cwd=wd, check=True, timeout=300)
    first = plan(wd)
    snakemake(wd, *OWN)
    return wd, first


# --- end to end: the example ---


@pytest.mark.slow
@pytest.mark.e2e
def test_the_example_plans_no_training_and_writes_every_output(own):
    wd, first = own
    assert first == {"config_used": 1, "prepare_data": 1, "certify": 6, "aggregate": 1, "claims": 1, "compare": 1, "claims_figure": 1, "paper_comparison_figure": 1,
                     "risk_curves": 1, "heatmap": 1, "alpha_star_figure": 1, "certified_figure": 1, "all": 1}, first
    res = wd / "results" / "mnist"
    assert not (res / "models").exists()
    risk = pd.read_csv(res / "risk.csv")
    assert len(risk) == 6 and risk["risk"].max() < 0.5  # the example's models learned
    for c in ("clean_test_acc", "noisy_test_acc", "final_loss", "train_env"):
        assert risk[c].isna().all(), c  # no training metrics for checkpoints of your own
    assert sorted(pd.read_csv(res / "alpha_star.csv")["beta"]) == [0, 0.25, 0.5]
    assert pd.read_csv(res / "claims.csv")["claim"].tolist()[:2] == ["C1", "C2"]
    for fig in ("risk_curves", "heatmap", "certified", "alpha_star", "claims"):
        assert (res / "figures" / f"{fig}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(pd.read_csv(res / "environments.csv")["role"]) == {"certify"}
    assert plan(wd) == {}


@pytest.mark.slow
@pytest.mark.e2e
def test_replacing_a_checkpoint_reruns_its_certifications_and_touching_it_does_not(own):
    wd, _ = own
    ck = wd / "checkpoints" / "alpha0.25_seed0.pt"
    original = ck.read_bytes()
    ck.touch()
    assert plan(wd) == {}
    state = torch.load(ck)
    state["0.bias"] += 0.01
    torch.save(state, ck)
    try:
        assert plan(wd) == {"certify": 3, "aggregate": 1, "claims": 1, "compare": 1, "claims_figure": 1, "paper_comparison_figure": 1, "risk_curves": 1, "heatmap": 1, "alpha_star_figure": 1, "certified_figure": 1, "all": 1}
    finally:
        ck.write_bytes(original)
    assert plan(wd) == {}  # the same bytes again: nothing to do


@pytest.mark.slow
@pytest.mark.e2e
def test_normalize_inside_the_classifier_certifies_as_a_model_that_normalises_itself(own, tmp_path):
    """The same weights with the normalisation as their own first layer give the pipeline's
    certification table byte for byte: the same votes, counts and radii."""
    wd, _ = own
    (tmp_path / "selfnorm.py").write_text(
        "from torch import nn\n\nfrom mynets import small_cnn\nfrom rsmooth.models import Normalize\n\n\n"
        "def make(c, k, s):\n    return nn.Sequential(Normalize([0.5] * c, [0.5] * c), small_cnn(c, k, s))\n")
    state = torch.load(wd / "checkpoints" / "alpha0.25_seed0.pt")
    own_state = {"0.mean": torch.full((1, 1, 1, 1), 0.5), "0.std": torch.full((1, 1, 1, 1), 0.5),
                 **{f"1.{k}": v for k, v in state.items()}}
    torch.save(own_state, tmp_path / "selfnorm.pt")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{wd}"}
    run_script("certify.py", "--model", tmp_path / "selfnorm.pt", "--data", wd / "results/mnist/data.npz",
               "--arch", "selfnorm:make", "--alpha", 0.25, "--beta", 0.25, "--seed", 0, "--n-test", 30,
               "--n-votes", 20, "--n-cert", 20, "--device", "cpu", "--out", tmp_path / "self.csv", env=env)
    pipeline = wd / "results/mnist/certify/alpha0.25_beta0.25_seed0.csv"
    assert (tmp_path / "self.csv").read_bytes() == pipeline.read_bytes()
    assert pd.read_csv(pipeline)["radius"].notna().any()


@pytest.mark.slow
@pytest.mark.e2e
def test_a_state_dict_that_does_not_fit_fails_the_job_in_one_line(own, tmp_path):
    wd, _ = own
    ck = wd / "checkpoints" / "alpha0_seed0.pt"
    r = run_script("certify.py", "--model", ck, "--data", wd / "results/mnist/data.npz", "--arch", "cnn",
                   "--alpha", 0, "--beta", 0, "--out", tmp_path / "x.csv", check=False,
                   env={**os.environ})
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {ck}: state dict does not fit PaperCNN: missing key 'conv1.weight' "
                      "(13 more mismatched key(s))"], r.stderr


@pytest.mark.slow
@pytest.mark.e2e
def test_training_with_normalize_saves_the_models_own_state_dict(own, tmp_path):
    """train.py finds the architecture through PYTHONPATH, trains behind the normalisation and
    saves the state dict of the model alone, which certification loads."""
    wd, _ = own
    env = {**os.environ, "PYTHONPATH": str(wd)}
    run_script("train.py", "--data", wd / "results/mnist/data.npz", "--arch", "mynets:small_cnn",
               "--mean", 0.5, "--std", 0.5, "--alpha", 0.25, "--epochs", 1, "--train-images", 32,
               "--copies", 1, "--batch-size", 16, "--device", "cpu", "--out", tmp_path / "h.pt",
               "--metrics", tmp_path / "h.csv", env=env, cwd=tmp_path)
    sys.path.insert(0, str(wd))
    try:
        from mynets import small_cnn
    finally:
        sys.path.remove(str(wd))
    runtime.load_state(small_cnn(1, 10, 28), tmp_path / "h.pt")


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("key, value, line", [
    ("models", "ck/alpha{alpha}.pt", "config key datasets.mnist.models: no checkpoint ck/alpha0.25.pt for alpha "
                                     "0.25, seed 0 (relative paths start in {wd})"),
    ("arch", "nowhere_nets:make", "config key datasets.mnist.arch: nowhere_nets:make: no module nowhere_nets on "
                                  "PYTHONPATH or in the working directory {wd}"),
])
def test_a_missing_checkpoint_or_module_is_refused_in_one_line_before_any_job(tmp_path, key, value, line):
    (tmp_path / "ck").mkdir()
    torch.save(models.build_model("cnn", 1, 10, 28).state_dict(), tmp_path / "ck" / "alpha0.pt")
    r = snakemake(tmp_path, "-n", config=tiny_config(mnist=tiny_mnist(**{key: value})), check=False)
    assert r.returncode != 0
    out = (r.stdout + r.stderr).splitlines()
    assert line.format(wd=tmp_path) in out, r.stderr
    assert not (tmp_path / "results").exists()


# --- the library ---


def test_an_architecture_of_your_own_is_found_on_the_path_without_importing_it(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg_on_path"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "nets.py").write_text(ARCH)
    (pkg / "loud.py").write_text("raise SystemExit('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert provenance.module_file("pkg_on_path.loud") == pkg / "loud.py"  # found, not run
    assert provenance.module_file("pkg_on_path.absent") is None
    net = models.build_model("pkg_on_path.nets:make", 1, 10, 28)
    assert net(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    digest = provenance.arch_fingerprint("pkg_on_path.nets:make")
    (pkg / "nets.py").write_text(ARCH + "# edited\n")
    assert provenance.arch_fingerprint("pkg_on_path.nets:make") != digest
    assert provenance.arch_fingerprint("cnn") == ""


def test_an_architecture_of_your_own_is_found_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "cwd_nets.py").write_text(ARCH + "\n\ndef not_a_model(c, k, s):\n    return 3\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    assert provenance.module_file("cwd_nets") == tmp_path / "cwd_nets.py"
    assert isinstance(models.build_model("cwd_nets:make", 3, 2, 8), nn.Module)
    for arch, words in (("cwd_nets:absent", "has no function absent"),
                        ("cwd_nets:not_a_model", "returned a int, not a torch.nn.Module"),
                        ("nowhere_nets:make", "cannot import nowhere_nets")):
        with pytest.raises(ValueError, match=words) as e:
            models.build_model(arch, 3, 2, 8)
        assert "\n" not in str(e.value)


@pytest.mark.parametrize("edit, words", [
    (lambda s: s.pop("fc2.bias"), "missing key 'fc2.bias'"),
    (lambda s: s.update(extra=torch.zeros(1)), "unexpected key 'extra'"),
    (lambda s: s.update({"fc2.weight": torch.zeros(3, 128)}), "key 'fc2.weight' has shape [3, 128], the model's [10, 128]"),
])
def test_a_state_dict_that_does_not_fit_gets_one_line_with_the_file_and_the_key(tmp_path, edit, words):
    state = models.build_model("cnn", 1, 10, 28).state_dict()
    edit(state)
    torch.save(state, tmp_path / "h.pt")
    with pytest.raises(ValueError) as e:
        runtime.load_state(models.build_model("cnn", 1, 10, 28), tmp_path / "h.pt")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{tmp_path / 'h.pt'}: state dict does not fit PaperCNN: {words}"), msg


def test_normalize_wraps_the_model_after_the_noise():
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    assert models.with_normalize(net, 3) is net
    h = models.with_normalize(net, 3, [0.5] * 3, [0.5] * 3)
    x = torch.rand(2, 3, 4, 4)
    assert torch.equal(h(x), net((x - 0.5) / 0.5))
    assert set(h.state_dict()) - set(f"1.{k}" for k in net.state_dict()) == {"0.mean", "0.std"}
    with pytest.raises(ValueError, match="give 1 or 3 of each"):
        models.with_normalize(net, 3, [0.5, 0.5], [0.5, 0.5])


def test_inputs_outside_the_unit_interval_are_refused():
    with pytest.raises(ValueError, match=r"pixels in \[0, 1\]"):
        core.Smooth(nn.Sequential(nn.Flatten(), nn.Linear(16, 2)), 2, 0.25).vote(
            torch.rand(2, 1, 4, 4) * 2 - 1, np.arange(2), 10, seed=0)
