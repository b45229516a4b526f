"""Faults and bad input: killed jobs, determinism, bad files, bad arguments."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import REPO
from fakedata import fake_mnist
from pipeline import recipe, run_script, snakemake, tiny_config, tiny_mnist
from rsmooth import data, models, training


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A tiny data cache and a trained model, made with the scripts."""
    d = tmp_path_factory.mktemp("small")
    fake_mnist(d / "raw", n_train=200, n_test=40)
    run_script("prepare_data.py", "--source", "mnist", "--root", d / "raw", "--out", d / "data.npz")
    run_script("train.py", "--data", d / "data.npz", "--alpha", 0.3, "--epochs", 1, "--copies", 2,
               "--batch-size", 16, "--out", d / "m.pt", "--metrics", d / "m.csv")
    return d


def _train(x, y, cfg, checkpoint=None):
    torch.manual_seed(0)
    m = models.PaperCNN(1, 10, 28)
    training.train(m, x, y, 0.4, cfg, seed=11, device=torch.device("cpu"), checkpoint=checkpoint,
                   log=lambda *a: None)
    return {k: v.clone() for k, v in m.state_dict().items()}


@pytest.mark.slow
def test_training_is_deterministic_and_resumes_to_the_same_weights(small, tmp_path, monkeypatch):
    a = data.load_cache(small / "data.npz")
    x, y = data.to_float(a.x_train), torch.from_numpy(a.y_train)
    cfg = recipe(epochs=3, batch_size=32, copies=2, micro_batch=24)
    first, second = _train(x, y, cfg), _train(x, y, cfg)
    for k in first:
        assert torch.equal(first[k], second[k]), f"{k} differs between two identical runs"

    ckpt = tmp_path / "run.ckpt"
    calls = {"n": 0}
    real_step = torch.optim.lr_scheduler.StepLR.step

    def crash_in_epoch_two(self, *args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:  # the scheduler's first call is in its constructor
            raise KeyboardInterrupt("simulated kill after epoch 1")
        return real_step(self, *args, **kw)

    monkeypatch.setattr(torch.optim.lr_scheduler.StepLR, "step", crash_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        _train(x, y, cfg, checkpoint=ckpt)
    monkeypatch.setattr(torch.optim.lr_scheduler.StepLR, "step", real_step)
    assert torch.load(ckpt, weights_only=False)["epoch"] == 1
    resumed = _train(x, y, cfg, checkpoint=ckpt)
    for k in first:
        assert torch.equal(first[k], resumed[k]), f"{k} differs after resuming"


def test_onecycle_schedule_is_a_warm_up_then_a_decay_to_a_thousandth():
    f = [training.onecycle(i, 101) for i in range(102)]
    assert f[0] == pytest.approx(0.1) and f[25] == pytest.approx(1.0) and f[100] == pytest.approx(0.001)
    assert all(a < b for a, b in zip(f[:25], f[1:26])) and all(a > b for a, b in zip(f[25:100], f[26:101]))
    assert f[101] == f[100]  # the scheduler's call after the last step
    assert training.onecycle(0, 1) == 1.0


@pytest.mark.slow
def test_onecycle_and_label_smoothing_train_per_step_and_resume_to_the_same_weights(small, tmp_path):
    a = data.load_cache(small / "data.npz")
    x, y = data.to_float(a.x_train), torch.from_numpy(a.y_train)
    cfg = recipe(epochs=2, batch_size=32, copies=1, optimizer="sgd", lr=0.05,
                               schedule="onecycle", label_smoothing=0.2)
    lrs = []
    real_step = torch.optim.SGD.step

    def record(self, *args, **kw):
        lrs.append(self.param_groups[0]["lr"])
        return real_step(self, *args, **kw)

    torch.optim.SGD.step = record
    try:
        first = _train(x, y, cfg)
    finally:
        torch.optim.SGD.step = real_step
    steps = 2 * 7  # 200 images in batches of 32
    assert lrs == pytest.approx([0.05 * training.onecycle(i, steps) for i in range(steps)])
    plain = _train(x, y, recipe(**{**cfg.__dict__, "label_smoothing": 0.0}))
    assert any(not torch.equal(first[k], plain[k]) for k in first)  # the smoothing is used

    ckpt = tmp_path / "run.ckpt"

    def killed_after_epoch_one(msg):
        if msg.startswith("epoch 1:"):
            raise KeyboardInterrupt("simulated kill after epoch 1")

    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt):
        training.train(models.PaperCNN(1, 10, 28), x, y, 0.4, cfg, seed=11, device=torch.device("cpu"),
                       checkpoint=ckpt, log=killed_after_epoch_one)
    resumed = _train(x, y, cfg, checkpoint=ckpt)
    for k in first:
        assert torch.equal(first[k], resumed[k]), f"{k} differs after resuming"


@pytest.mark.slow
def test_training_job_rerun_alone_gives_identical_bytes(small, tmp_path):
    run_script("train.py", "--data", small / "data.npz", "--alpha", 0.3, "--epochs", 1, "--copies", 2,
               "--batch-size", 16, "--out", tmp_path / "m.pt", "--metrics", tmp_path / "m.csv")
    assert (tmp_path / "m.pt").read_bytes() == (small / "m.pt").read_bytes()
    assert (tmp_path / "m.csv").read_bytes() == (small / "m.csv").read_bytes()
    assert "samples_per_s" not in pd.read_csv(tmp_path / "m.csv").columns  # timings: log only


@pytest.mark.slow
def test_certifying_twice_gives_identical_bytes(small, tmp_path):
    for name in ("a.csv", "b.csv"):
        run_script("certify.py", "--model", small / "m.pt", "--data", small / "data.npz", "--alpha", 0.3,
                   "--beta", 0.4, "--n-votes", 30, "--n-cert", 20, "--out", tmp_path / name)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    # the same draws whatever the batch size: identical votes
    run_script("certify.py", "--model", small / "m.pt", "--data", small / "data.npz", "--alpha", 0.3,
               "--beta", 0.4, "--n-votes", 30, "--n-cert", 20, "--batch-size", 7, "--out", tmp_path / "c.csv")
    a, c = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "c.csv")
    assert (a["vote"] == c["vote"]).all() and (a["count_cert"] == c["count_cert"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "foreign", "not_torch"])
def test_bad_checkpoint_is_refused_with_its_name_and_nothing_written(small, tmp_path, damage):
    bad = tmp_path / "bad.pt"
    if damage == "truncated":
        bad.write_bytes((small / "m.pt").read_bytes()[:5000])
    elif damage == "foreign":
        torch.save(torch.nn.Linear(3, 2).state_dict(), bad)
    else:
        bad.write_text("hello")
    out = tmp_path / "out.csv"
    r = run_script("certify.py", "--model", bad, "--data", small / "data.npz", "--alpha", 0, "--beta", 0.1,
                   "--out", out, check=False)
    assert r.returncode == 1
    assert str(bad) in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    r = run_script("train.py", "--data", small / "data.npz", "--alpha", 0.1, "--init", bad,
                   "--out", tmp_path / "m.pt", "--metrics", tmp_path / "m.csv", check=False)
    assert r.returncode == 1 and str(bad) in r.stderr and not (tmp_path / "m.pt").exists()


@pytest.mark.slow
def test_data_file_of_the_wrong_shape_is_refused(small, tmp_path):
    bad = tmp_path / "cache.npz"
    np.savez(bad, x_train=np.zeros((4, 28, 28), np.uint8), y_train=np.zeros(4, np.int64),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2, np.int64), num_classes=10)
    r = run_script("certify.py", "--model", small / "m.pt", "--data", bad, "--alpha", 0, "--beta", 0.1,
                   "--out", tmp_path / "o.csv", check=False)
    assert r.returncode == 1 and str(bad) in r.stderr and "[N, C, H, W]" in r.stderr


@pytest.mark.slow
def test_existing_output_is_not_overwritten_by_a_failing_job(small, tmp_path):
    out = tmp_path / "keep.csv"
    out.write_text("precious\n")
    bad = tmp_path / "bad.pt"
    bad.write_text("x")
    run_script("certify.py", "--model", bad, "--data", small / "data.npz", "--alpha", 0, "--beta", 0.1,
               "--out", out, check=False)
    assert out.read_text() == "precious\n"


@pytest.mark.slow
@pytest.mark.parametrize("argv, words", [
    (["certify.py", "--model", "nope.pt", "--data", "nope.npz", "--alpha", "0", "--beta", "0.1", "--out", "o.csv"], "no such file"),
    (["certify.py", "--model", "M", "--data", "D", "--alpha", "0", "--beta", "-1", "--out", "o.csv"], "must be a finite number >= 0"),
    (["certify.py", "--model", "M", "--data", "D", "--alpha", "0", "--beta", "0.1", "--n-votes", "0", "--out", "o"], "must be an integer >= 1"),
    (["certify.py", "--model", "M", "--data", "D", "--alpha", "0", "--beta", "0.1", "--failure-prob", "1.5", "--out", "o"], "strictly between 0 and 1"),
    (["certify.py", "--model", "M", "--data", "D", "--alpha", "nan", "--beta", "0.1", "--out", "o"], "finite number"),
    (["train.py", "--data", "D", "--alpha", "0.1", "--epochs", "0", "--out", "o", "--metrics", "m"], "must be an integer >= 1"),
    (["train.py", "--data", "D", "--alpha", "0.1", "--out", "o"], "--metrics"),
    (["prepare_data.py", "--source", "imagenet", "--out", "o.npz"], "invalid choice"),
    (["aggregate.py", "--certs", "missing.csv", "--risk", "r.csv"], "no such file"),
    (["figures.py", "heatmap", "--out", "x"], "needs --risk"),
    (["synthetic.py", "curves", "--images", "D", "--beta", "-2", "--alphas", "0", "--out", "o"], "finite number >= 0"),
    (["synthetic.py", "sample", "--zetas", "0", "--samples", "0", "--seed", "1", "--out", "o"], "integer >= 1"),
])
def test_scripts_refuse_bad_arguments_with_usage(small, tmp_path, argv, words):
    argv = [str(small / "m.pt") if a == "M" else str(small / "data.npz") if a == "D" else a for a in argv]
    r = run_script(*argv, check=False, cwd=tmp_path, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "usage:" in r.stderr and words in r.stderr, r.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_every_script_has_help():
    for s in sorted((REPO / "scripts").glob("*.py")):
        r = subprocess.run([sys.executable, str(s), "--help"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "usage:" in r.stdout, s.name


def _files_are_whole(results):
    for p in results.rglob("*.pt"):
        torch.load(p, weights_only=True)
    for p in results.rglob("*.csv"):
        assert len(pd.read_csv(p)) > 0, p
    return True


@pytest.mark.slow
@pytest.mark.e2e
def test_killing_the_whole_snakemake_tree_loses_nothing(tmp_path):
    """SIGKILL snakemake and its jobs while a training job is past its first epoch, then while
    certification runs; every file under results/ stays whole, and a rerun completes."""
    fake_mnist(tmp_path / "data", n_train=400, n_test=60)
    ds = tiny_mnist(alphas=[0, 0.5], betas=[0, 0.5])
    ds["train"]["base"].update(epochs=4, copies=3)
    cfg = tiny_config(mnist=ds)
    snakemake(tmp_path, "-n", config=cfg)
    log = tmp_path / "results/logs/train/mnist/alpha0_seed0.log"

    def start_and_kill(ready):
        out = open(tmp_path / "snakemake.out", "w")
        p = subprocess.Popen([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--cores", "2",
                              ], cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        t0 = time.time()
        while not ready() and p.poll() is None and time.time() - t0 < 300:
            time.sleep(0.2)
        assert p.poll() is None, "the run ended before the kill:\n" + (tmp_path / "snakemake.out").read_text()[-3000:]
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()

    start_and_kill(lambda: log.exists() and "epoch 1:" in log.read_text())
    assert not (tmp_path / "results/mnist/models/alpha0_seed0.pt").exists()
    assert (tmp_path / "results/mnist/models/.alpha0_seed0.ckpt").exists()
    assert _files_are_whole(tmp_path / "results")

    certs = tmp_path / "results/logs/certify/mnist"
    snakemake(tmp_path, "--unlock")  # a killed snakemake leaves its lock behind
    start_and_kill(lambda: certs.exists() and any(certs.iterdir()))
    assert "resumed from" in log.read_text()
    assert _files_are_whole(tmp_path / "results")

    snakemake(tmp_path, "--unlock")
    snakemake(tmp_path)
    assert len(pd.read_csv(tmp_path / "results/mnist/risk.csv")) == 4
    assert _files_are_whole(tmp_path / "results")
    assert not list((tmp_path / "results").rglob(".tmp-*"))
