"""The whole DAG through snakemake, on a tiny generated MNIST-format dataset."""
import numpy as np
import pandas as pd
import pytest

from fakedata import fake_mnist
from pipeline import planned_jobs, snakemake, tiny_config, tiny_mnist

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    wd = tmp_path_factory.mktemp("e2e")
    fake_mnist(wd / "data", n_train=300, n_test=60)
    snakemake(wd, config=tiny_config(mnist=tiny_mnist()))
    return wd


def test_every_output_exists_with_the_right_columns(run):
    res = run / "results" / "mnist"
    for a in ("0", "0.25", "0.5"):
        assert (res / "models" / f"alpha{a}_seed0.pt").stat().st_size > 1000
        for b in ("0", "0.25", "0.5"):
            df = pd.read_csv(res / "certify" / f"alpha{a}_beta{b}_seed0.csv")
            assert list(df.columns) == ["alpha", "beta", "seed", "index", "label", "vote", "count_top",
                                        "count_second", "n_evals", "count_cert", "p_lower", "radius",
                                        "abstain", "correct"]
            assert len(df) == 30 and df["index"].tolist() == list(range(30))
            assert (df["count_top"] >= df["count_second"]).all()
            assert (df["n_evals"] <= 20).all() and (df["vote"].between(0, 9)).all()
            assert df["correct"].tolist() == (df["vote"] == df["label"]).astype(int).tolist()
            has_radius = a == b and b != "0"
            assert df["p_lower"].notna().all() == has_radius
    risk = pd.read_csv(res / "risk.csv")
    assert len(risk) == 9
    assert {"alpha", "beta", "seed", "n_test", "errors", "risk", "risk_low", "risk_high", "acr",
            "cert_acc_r0", "clean_test_acc"} <= set(risk.columns)
    assert risk["risk"].between(0, 1).all()
    assert (risk["risk_low"] <= risk["risk"]).all() and (risk["risk"] <= risk["risk_high"]).all()
    assert np.allclose(risk["risk"], risk["errors"] / risk["n_test"])
    star = pd.read_csv(res / "alpha_star.csv")
    assert sorted(star["beta"]) == [0, 0.25, 0.5]
    assert star["alpha_star"].isin([0, 0.25, 0.5]).all()
    for fig in ("risk_curves", "heatmap", "certified"):
        assert (res / "figures" / f"{fig}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (res / "figures" / f"{fig}.pdf").read_bytes()[:5] == b"%PDF-"
    assert "clean test accuracy" in (run / "results/logs/train/mnist/alpha0_seed0.log").read_text()


def test_second_run_has_nothing_to_do(run):
    assert planned_jobs(run) == {}


def test_no_temporary_files_left_behind(run):
    assert not [p for p in (run / "results").rglob(".tmp-*")]
    assert not [p for p in (run / "results").rglob("*.ckpt")]


def test_bad_config_is_refused_before_any_job_with_the_key(tmp_path):
    cfg = tiny_config(mnist=tiny_mnist(betas=[0, -0.5]))
    r = snakemake(tmp_path, "-n", config=cfg, check=False)
    assert r.returncode != 0
    assert "config key datasets.mnist.betas[1]" in r.stdout + r.stderr
    assert not (tmp_path / "results").exists()
