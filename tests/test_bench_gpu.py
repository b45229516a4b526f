"""benchmarks/bench_gpu.py, the prepared GPU benchmark, kept from rotting: its --quick run on
the CPU and generated data, and the paper preset's numbers it carries for machines without
PyYAML."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from fakedata import fake_mnist

sys.path.insert(0, str(REPO / "benchmarks"))
import bench_gpu  # noqa: E402


@pytest.mark.slow
def test_quick_run_on_the_cpu_writes_every_part(tmp_path):
    root = fake_mnist(tmp_path / "data", n_train=300, n_test=60)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_gpu.py"), "--device", "cpu", "--quick",
                        "--data-root", str(root), str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    df = pd.read_csv(out / "bench_gpu.csv")
    assert list(df.columns) == ["part", "item", "value", "unit", "detail"]
    assert set(df.part) == {"noise", "trainer", "slice", "engine", "projection", "total"}
    rates = df[df.unit.isin(["samples/s", "evaluations/s"])]
    assert len(rates) == 3 + 4 + 2 and (pd.to_numeric(rates.value) > 0).all()
    cert = df[df.item.str.startswith("certify h_")]
    assert len(cert) == 2 and cert.detail.str.contains(r"risk 0\.\d{4} \(paper 0\.\d{4}\)").all()
    assert (out / "slice" / "certify" / "alpha0.5_beta0.5_seed0.csv").exists()
    total = df[df.item == "config/paper.yaml, all jobs one after another"]
    assert len(total) == 1 and float(total.value.item()) > 0 and "1588 jobs" in total.detail.item()
    md = (out / "bench_gpu.md").read_text().splitlines()
    assert md[2] == "| part | what | value | unit | detail |" and len(md) == 4 + len(df)


def test_the_paper_preset_it_carries_is_config_paper_yaml(monkeypatch):
    pytest.importorskip("yaml")
    pytest.importorskip("snakemake")
    carried = bench_gpu.PAPER
    monkeypatch.setattr(bench_gpu, "PAPER", None)  # the plan must come from the file
    assert bench_gpu.paper_plan() == carried
    from rsmooth import config

    d = config.defaults("mnist")["train"]["noisy"]
    assert {k: d[k] for k in bench_gpu.MNIST_RECIPE} == bench_gpu.MNIST_RECIPE


def test_its_idx_reader_reads_what_torchvision_reads(tmp_path):
    pytest.importorskip("torchvision")
    from rsmooth import data

    root = fake_mnist(tmp_path, n_train=30, n_test=10)
    ours, tv = bench_gpu.read_idx_mnist(root), data.fetch("mnist", root)
    for k in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(ours, k), getattr(tv, k))
        assert getattr(ours, k).dtype == getattr(tv, k).dtype


def test_the_tqdm_stand_in_iterates_and_counts(tmp_path):
    (tmp_path / "standin.py").write_text(bench_gpu.TQDM_STANDIN)
    sys.path.insert(0, str(tmp_path))
    try:
        import standin
    finally:
        sys.path.remove(str(tmp_path))
    with standin.tqdm(total=3) as bar:
        bar.update(2)
    assert list(standin.tqdm(range(4), desc="x", mininterval=5)) == [0, 1, 2, 3]
