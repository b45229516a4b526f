"""Real MNIST from ../shared/data (skipped where it is absent)."""

import pandas as pd
import pytest

from conftest import shared_data_or_skip
from pipeline import run_script

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_short_base_training_on_real_mnist_has_smoothed_risk_below_3_percent(tmp_path):
    root = shared_data_or_skip("MNIST", "raw").parents[1]
    run_script("prepare_data.py", "--source", "mnist", "--root", root, "--out", tmp_path / "d.npz")
    run_script("train.py", "--data", tmp_path / "d.npz", "--alpha", 0, "--epochs", 1, "--copies", 1,
               "--out", tmp_path / "m.pt", "--metrics", tmp_path / "m.csv")
    run_script("certify.py", "--model", tmp_path / "m.pt", "--data", tmp_path / "d.npz", "--alpha", 0,
               "--beta", 0, "--n-test", 2000, "--out", tmp_path / "c.csv")
    df = pd.read_csv(tmp_path / "c.csv")
    risk = 1 - df["correct"].mean()
    assert len(df) == 2000
    assert risk < 0.03, f"smoothed risk at beta = 0 is {risk:.4f}"
