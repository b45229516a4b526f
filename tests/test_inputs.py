"""Bad input gets one clear line that names the problem and the file or key, before anything is
overwritten (issue 14, point 6)."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO
from fakedata import fake_mnist
from pipeline import run_script
from rsmooth.config import ConfigError, min_certifying_n, validate_config

PRESET = yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A tiny data cache, a model trained for one epoch of two steps and its certification table."""
    d = tmp_path_factory.mktemp("inputs")
    fake_mnist(d / "raw", n_train=100, n_test=20)
    run_script("prepare_data.py", "--source", "mnist", "--root", d / "raw", "--out", d / "data.npz")
    run_script("train.py", "--data", d / "data.npz", "--alpha", 0, "--epochs", 1, "--batch-size", 50, "--copies", 1, "--out",
               d / "m.pt", "--metrics", d / "m.csv")
    for a in (0, 0.5):
        run_script("certify.py", "--model", d / "m.pt", "--data", d / "data.npz", "--alpha", a,
                   "--beta", 0.5, "--n-votes", 4, "--out", d / f"c{a}.csv", "--env", d / f"c{a}.env.csv")
    return d


def one_error_line(r: subprocess.CompletedProcess) -> str:
    """The one line of a refusal: exit status 1, and besides progress bars (tqdm's lines end
    in a rate such as "4.6s/it]") nothing but "error: ..." on stderr."""
    bar = re.compile(r"(it/s|s/it)\]$")
    lines = [line for line in r.stderr.splitlines() if line.strip() and not bar.search(line.strip())]
    assert r.returncode == 1, r.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]


# --- config -----------------------------------------------------------------------------------

def _with(**top):
    cfg = {**PRESET, **top}
    return cfg


def test_strings_from_snakemake_config_are_coerced_by_the_schemas_types():
    # `--config seeds=[0,1] threads_per_job=1` arrives as YAML base-loader strings
    cfg = validate_config(_with(seeds=["0", "1"], threads_per_job="1"))
    assert cfg["seeds"] == [0, 1] and cfg["threads_per_job"] == 1
    nested = {"mnist": {**PRESET["datasets"]["mnist"], "enabled": "False",
                        "alphas": "[0, 0.5]", "certify": {"n_test": "50", "radius_pairs": "all"}}}
    cfg = validate_config(_with(datasets=nested))
    mnist = cfg["datasets"]["mnist"]
    assert mnist["enabled"] is False and mnist["alphas"] == [0, 0.5]
    assert mnist["certify"]["n_test"] == 50 and mnist["certify"]["radius_pairs"] == "all"


def test_a_string_that_is_not_of_the_type_is_still_refused_with_its_key():
    with pytest.raises(ConfigError, match=r"config key seeds\[1\]: 'x' is not of type 'integer'"):
        validate_config(_with(seeds=["0", "x"]))


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "tpu"])
def test_a_device_that_is_no_device_is_refused_with_the_choices(device):
    with pytest.raises(ConfigError, match=r"config key device: .*auto .*cpu, cuda or cuda:N"):
        validate_config(_with(device=device))


@pytest.mark.parametrize("fp, n_min", [(0.001, 10), (0.05, 5), (2 ** -10, 11), (1e-6, 20)])
def test_smallest_certifying_n_is_the_first_whose_perfect_bound_exceeds_one_half(fp, n_min):
    from scipy.stats import beta

    assert min_certifying_n(fp) == n_min
    # one-sided Clopper-Pearson lower bound with all n votes for the top class
    assert beta.ppf(fp, n_min, 1) > 0.5 >= beta.ppf(fp, n_min - 1, 1)


def test_n_cert_too_small_to_ever_certify_is_refused_naming_the_smallest_that_can():
    ds = {"mnist": {**PRESET["datasets"]["mnist"], "certify": {"n_cert": 5, "failure_prob": 0.001}}}
    with pytest.raises(ConfigError, match=r"datasets\.mnist\.certify\.n_cert: 5 draws can never "
                                          r"certify at failure_prob 0\.001 .* the smallest n that can is 10"):
        validate_config(_with(datasets=ds))


def test_one_test_image_is_refused_since_the_gap_needs_two_halves():
    ds = {"mnist": {**PRESET["datasets"]["mnist"], "certify": {"n_test": 1}}}
    with pytest.raises(ConfigError, match=r"datasets\.mnist\.certify\.n_test: 1 image cannot be split"):
        validate_config(_with(datasets=ds))


def test_n_test_above_a_known_test_set_is_refused_when_the_config_is_read():
    ds = {"mnist": {**PRESET["datasets"]["mnist"], "certify": {"n_test": 10001}}}
    with pytest.raises(ConfigError, match=r"config key datasets\.mnist\.certify\.n_test: 10001 exceeds "
                                          r"the 10000 test images of mnist \(0 = all\)"):
        validate_config(_with(datasets=ds))
    ds["mnist"]["certify"]["n_test"] = 10000  # the whole set, by count: fine
    validate_config(_with(datasets=ds))


def test_the_removed_warm_worker_key_is_refused_by_name():
    with pytest.raises(ConfigError, match="warm_worker"):
        validate_config(_with(warm_worker=True))


# --- jobs -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_gpu_that_is_not_there_is_one_line_not_a_cpu_run(small, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    r = run_script("certify.py", "--model", small / "m.pt", "--data", small / "data.npz", "--alpha", 0,
                   "--beta", 0.5, "--device", "cuda", "--out", tmp_path / "c.csv", check=False)
    assert "device 'cuda' was requested but torch sees no CUDA GPU" in one_error_line(r)
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.slow
def test_n_test_above_the_test_set_is_refused(small, tmp_path):
    r = run_script("certify.py", "--model", small / "m.pt", "--data", small / "data.npz", "--alpha", 0,
                   "--beta", 0.5, "--n-test", 21, "--out", tmp_path / "c.csv", check=False)
    assert "--n-test 21 exceeds the 20 test images of" in one_error_line(r)
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.slow
def test_train_images_above_the_training_set_is_refused(small, tmp_path):
    r = run_script("train.py", "--data", small / "data.npz", "--alpha", 0, "--train-images", 101,
                   "--out", tmp_path / "m.pt", "--metrics", tmp_path / "m.csv", check=False)
    assert "--train-images 101 exceeds the 100 training images" in one_error_line(r)


def _aggregate(small, out: Path, *certs):
    return run_script("aggregate.py", "--certs", *certs, "--risk", out / "risk.csv",
                      "--seeds-summary", out / "seeds.csv", check=False)


@pytest.mark.slow
def test_aggregate_checks_every_input_before_writing_any_output(small, tmp_path):
    good = [small / "c0.csv", small / "c0.5.csv"]
    assert _aggregate(small, tmp_path, *good).returncode == 0
    before = (tmp_path / "risk.csv").read_bytes()
    text = (small / "c0.5.csv").read_text()
    truncated = tmp_path / "truncated.csv"
    truncated.write_text(text[: len(text) // 2])  # cut in the middle of a row
    r = _aggregate(small, tmp_path, small / "c0.csv", truncated)
    assert str(truncated) in one_error_line(r)
    assert (tmp_path / "risk.csv").read_bytes() == before
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert str(empty) in one_error_line(_aggregate(small, tmp_path, small / "c0.csv", empty))
    wrong = tmp_path / "wrong.csv"
    pd.read_csv(small / "c0.5.csv").drop(columns=["vote"]).to_csv(wrong, index=False)
    assert f"{wrong}: missing column(s) ['vote']" in one_error_line(_aggregate(small, tmp_path, small / "c0.csv", wrong))
    assert (tmp_path / "risk.csv").read_bytes() == before


def _mount_tmpfs(path: Path, *options: str) -> bool:
    path.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture
def full_disk(tmp_path):
    d = tmp_path / "full"
    if not _mount_tmpfs(d, "size=64k"):
        pytest.skip("needs root to mount a small tmpfs")
    yield d
    subprocess.run(["umount", str(d)], check=False)


@pytest.mark.slow
def test_a_full_disk_is_one_line_that_says_so_and_names_the_output(small, full_disk):
    out = full_disk / "m.pt"
    r = run_script("train.py", "--data", small / "data.npz", "--alpha", 0, "--epochs", 1, "--batch-size", 50, "--copies", 1,
                   "--out", out, "--metrics", full_disk / "m.csv", check=False)
    assert one_error_line(r) == f"error: cannot write {out}: no space left on the device"
    assert list(full_disk.iterdir()) == []  # no temporary file left behind


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("capsh") or os.geteuid() != 0, reason="needs root and capsh")
def test_an_unwritable_results_folder_is_one_line_naming_the_output_not_a_temporary_file(small, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    cmd = (f"{shutil.which('python3')} {REPO / 'scripts' / 'aggregate.py'} --certs {small / 'c0.csv'}"
           f" --radii 0 --level 0.95 --sample all --risk {ro / 'risk.csv'} --seeds-summary {ro / 'seeds.csv'}")
    r = subprocess.run(["capsh", "--drop=cap_dac_override,cap_dac_read_search", "--", "-c", cmd],
                       capture_output=True, text=True)
    assert one_error_line(r) == f"error: cannot write {ro / 'risk.csv'}: permission denied"


# --- broken models: never trained to NaN, never certified ----------------------------------

@pytest.mark.slow
def test_a_diverging_training_stops_with_one_line_and_writes_no_file(small, tmp_path):
    ckpt, out, metrics = tmp_path / ".m.ckpt", tmp_path / "m.pt", tmp_path / "m.csv"
    r = run_script("train.py", "--data", small / "data.npz", "--alpha", 0.2, "--epochs", 2,
                   "--batch-size", 10, "--copies", 1, "--optimizer", "sgd", "--lr", "1e6",
                   "--checkpoint", ckpt, "--out", out, "--metrics", metrics, check=False)
    line = one_error_line(r)
    assert line.startswith("error: training diverged at epoch 1 step "), line
    assert "(loss nan)" in line and "lower lr (now 1e+06)" in line, line
    assert list(tmp_path.iterdir()) == []  # no model, no metrics, no checkpoint, no temporary


@pytest.mark.slow
def test_the_metrics_of_a_trained_model_hold_a_final_loss(small):
    m = pd.read_csv(small / "m.csv")
    assert m["final_loss"].notna().all() and (m["final_loss"] > 0).all()


@pytest.mark.slow
def test_a_model_with_nan_weights_is_refused_by_certification_naming_the_file(small, tmp_path):
    import torch

    state = torch.load(small / "m.pt", weights_only=True)
    state = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in state.items()}
    bad = tmp_path / "nan.pt"
    torch.save(state, bad)
    r = run_script("certify.py", "--model", bad, "--data", small / "data.npz", "--alpha", 0.5,
                   "--beta", 0.5, "--n-votes", 4, "--out", tmp_path / "c.csv", check=False)
    assert one_error_line(r) == (f"error: {bad}: the model's logits are not finite (NaN or inf) on "
                                 f"the first 20 test images: a diverged training? It is not certified")
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.slow
@pytest.mark.parametrize("content", [b"not a torch file", b"PK\x03\x04 truncated zip"])
def test_a_corrupt_checkpoint_is_one_line_naming_the_file(small, tmp_path, content):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(content)
    r = run_script("certify.py", "--model", bad, "--data", small / "data.npz", "--alpha", 0,
                   "--beta", 0.5, "--n-votes", 4, "--out", tmp_path / "c.csv", check=False)
    line = one_error_line(r)
    assert line.startswith(f"error: {bad}: not a PyTorch state dict (truncated, corrupt"), line
    assert "weights_only" not in r.stderr


@pytest.mark.slow
def test_a_pickled_module_is_refused_as_not_a_state_dict(small, tmp_path):
    import torch

    bad = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), bad)  # a whole pickled module: weights_only refuses it
    r = run_script("certify.py", "--model", bad, "--data", small / "data.npz", "--alpha", 0,
                   "--beta", 0.5, "--n-votes", 4, "--out", tmp_path / "c.csv", check=False)
    assert one_error_line(r).startswith(f"error: {bad}: not a PyTorch state dict"), r.stderr
    assert "weights_only" not in r.stderr and "Weights only" not in r.stderr
