import numpy as np
import pandas as pd
import pytest

from rsmooth import analysis


def test_savgol_alpha_star_on_a_known_curve():
    """A cubic passes through Savitzky-Golay (order 3) unchanged, so alpha* is its minimum."""
    alphas = np.round(np.arange(0, 1.0, 0.01), 2)
    rows = []
    for beta in (0.2, 0.5):
        risk = (alphas - beta * 0.8) ** 2 + 0.01 * (alphas - 0.5) ** 3 + 0.05
        rows += [{"seed": 0, "alpha": a, "beta": beta, "risk": r} for a, r in zip(alphas, risk)]
    star = analysis.alpha_star(pd.DataFrame(rows), 15, 3).set_index("beta")
    assert star.loc[0.2, "alpha_star"] == pytest.approx(0.16)
    assert star.loc[0.5, "alpha_star"] == pytest.approx(0.40)
    assert star.loc[0.5, "alpha_near_beta"] == pytest.approx(0.5)
    assert star.loc[0.5, "risk_alpha0"] == pytest.approx(0.16 + 0.05 - 0.00125)
    assert (star["curve_method"] == "savgol").all()


def test_savgol_smoothing_ignores_one_outlier():
    alphas = np.linspace(0, 1, 30)
    risk = (alphas - 0.6) ** 2
    risk[3] = -0.01  # a raw argmin at alpha[3] that smoothing must not follow
    df = pd.DataFrame({"seed": 0, "beta": 0.5, "alpha": alphas, "risk": risk})
    assert analysis.alpha_star(df, 15, 3)["alpha_star"].iloc[0] > 0.4


@pytest.mark.parametrize("n, window, expected", [(100, 15, 15), (9, 15, 9), (10, 15, 9), (4, 15, None), (3, 15, None)])
def test_window_shrinks_to_an_odd_number_of_points(n, window, expected):
    assert analysis.savgol_window(n, window, 3) == expected


def test_summarize_risk_interval_and_certified_accuracy():
    df = pd.DataFrame({
        "correct": [1, 1, 1, 0], "radius": [0.1, 0.6, np.nan, 0.9],
        "p_lower": [0.6, 0.9, 0.4, 0.95], "n_evals": [10, 20, 30, 40]})
    row = analysis.summarize(df, [0.0, 0.5])
    assert row["errors"] == 1 and row["n_test"] == 4 and row["risk"] == 0.25
    assert 0 < row["risk_low"] < 0.25 < row["risk_high"] < 1
    assert row["cert_acc_r0"] == 0.5       # right and certified: images 0 and 1
    assert row["cert_acc_r0.5"] == 0.25    # only image 1 reaches 0.5
    assert row["acr"] == pytest.approx(0.7 / 4)
    assert row["mean_evals"] == 25
    off = analysis.summarize(df.assign(p_lower=np.nan, radius=np.nan), [0.0])
    assert np.isnan(off["cert_acc_r0"]) and np.isnan(off["acr"])


def test_across_seeds_mean_sd_and_t_interval_clipped_to_probabilities():
    risk = pd.DataFrame({"alpha": [0.5] * 3 + [0.0], "beta": [0.5] * 3 + [0.0],
                         "seed": [0, 1, 2, 0], "risk": [0.0, 0.01, 0.02, 0.3]})
    out = analysis.across_seeds(risk).set_index(["alpha", "beta"])
    three, one = out.loc[(0.5, 0.5)], out.loc[(0.0, 0.0)]
    assert three["n_seeds"] == 3 and three["risk_mean"] == pytest.approx(0.01)
    assert three["risk_std"] == pytest.approx(0.01)
    # t(0.975, 2 df) = 4.3027: mean +- 4.3027 * 0.01 / sqrt(3) = [-0.0148, 0.0348], low clipped at 0
    assert three["risk_mean_low"] == 0.0
    assert three["risk_mean_high"] == pytest.approx(0.01 + 4.302653 * 0.01 / np.sqrt(3), rel=1e-5)
    assert one["n_seeds"] == 1 and one["risk_mean"] == pytest.approx(0.3)
    assert np.isnan(one["risk_std"]) and np.isnan(one["risk_mean_low"])


def test_atomic_write_leaves_nothing_on_failure_and_normal_permissions(tmp_path):
    from rsmooth.io import atomic_path

    target = tmp_path / "t.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists() and not list(tmp_path.iterdir())
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole" and list(tmp_path.iterdir()) == [target]
    assert target.stat().st_mode & 0o044 == 0o044  # readable by group and others (umask 022)
