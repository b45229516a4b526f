import numpy as np
import pandas as pd
import pytest

from conftest import best_alpha
from pipeline import run_script
from rsmooth import analysis, curves


def test_savgol_alpha_star_on_a_known_curve():
    """A cubic passes through Savitzky-Golay (order 3) unchanged, so alpha* is its minimum."""
    alphas = np.round(np.arange(0, 1.0, 0.01), 2)
    for beta, expected in ((0.2, 0.16), (0.5, 0.40)):
        risk = (alphas - beta * 0.8) ** 2 + 0.01 * (alphas - 0.5) ** 3 + 0.05
        star, _, method = best_alpha(alphas, risk, 15, 3)
        assert star == pytest.approx(expected) and method == "savgol"


def test_savgol_smoothing_ignores_one_outlier():
    alphas = np.linspace(0, 1, 30)
    risk = (alphas - 0.6) ** 2 + 0.01
    risk[3] = 0.0  # a raw argmin at alpha[3] that smoothing must not follow
    assert best_alpha(alphas, risk, 15, 3)[0] > 0.4


@pytest.mark.parametrize("n, window", [(9, 15), (14, 15)])
def test_the_savgol_window_is_never_shrunk_to_the_curve(n, window):
    with pytest.raises(ValueError, match=f"window {window} is longer than the {n} points"):
        curves.savgol(np.linspace(0, 1, n), window, 3)
    with pytest.raises(ValueError, match="must be odd and greater than the order 3"):
        curves.savgol(np.linspace(0, 1, 30), 14, 3)


def test_summarize_risk_interval_and_certified_accuracy():
    df = pd.DataFrame({
        "correct": [1, 1, 1, 0], "radius": [0.1, 0.6, np.nan, 0.9],
        "p_lower": [0.6, 0.9, 0.4, 0.95], "n_evals": [10, 20, 30, 40]})
    row = analysis.summarize(df, [0.0, 0.5], 0.95)
    assert row["errors"] == 1 and row["n_test"] == 4 and row["risk"] == 0.25
    assert 0 < row["risk_low"] < 0.25 < row["risk_high"] < 1
    assert row["cert_acc_r0"] == 0.5       # right and certified: images 0 and 1
    assert row["cert_acc_r0.5"] == 0.25    # only image 1 reaches 0.5
    assert row["acr"] == pytest.approx(0.7 / 4)
    assert row["mean_evals"] == 25
    off = analysis.summarize(df.assign(p_lower=np.nan, radius=np.nan), [0.0], 0.95)
    assert np.isnan(off["cert_acc_r0"]) and np.isnan(off["acr"])


def test_the_certified_curve_is_the_whole_step_function_of_certified_accuracy():
    rng = np.random.default_rng(4)
    n = 50
    radius = np.where(rng.random(n) < 0.2, np.nan, np.round(rng.random(n), 2))  # repeated radii, abstains
    df = pd.DataFrame({"correct": (rng.random(n) < 0.8).astype(int), "radius": radius,
                       "p_lower": np.where(np.isnan(radius), 0.4, 0.9), "n_evals": 10})
    curve = analysis.certified_curve(df)
    good = (df["correct"] == 1) & df["radius"].notna()
    assert curve["radius"].tolist() == sorted({0.0} | set(df.loc[good, "radius"]))
    rs = np.concatenate([np.linspace(0, 1.1, 301), curve["radius"]])
    step = np.searchsorted(curve["radius"].to_numpy(), rs)  # what the certified figure reads off at r
    read = np.where(step < len(curve), curve["cert_acc"].to_numpy()[np.minimum(step, len(curve) - 1)], 0.0)
    direct = [(good & (df["radius"] >= r)).mean() for r in rs]
    assert read.tolist() == direct  # exactly, at every radius
    row = analysis.summarize(df, [0.0, 0.25], 0.95)
    assert [row["cert_acc_r0"], row["cert_acc_r0.25"]] == analysis.certified_accuracy(df, [0, 0.25]).tolist()
    assert analysis.certified_curve(df.assign(p_lower=np.nan)).empty  # no draws: no curve


def test_across_seeds_mean_sd_and_t_interval_clipped_to_probabilities():
    risk = pd.DataFrame({"alpha": [0.5] * 3 + [0.0], "beta": [0.5] * 3 + [0.0],
                         "seed": [0, 1, 2, 0], "risk": [0.0, 0.01, 0.02, 0.3]})
    out = analysis.across_seeds(risk, 0.95).set_index(["alpha", "beta"])
    three, one = out.loc[(0.5, 0.5)], out.loc[(0.0, 0.0)]
    assert three["n_seeds"] == 3 and three["risk_mean"] == pytest.approx(0.01)
    assert three["risk_std"] == pytest.approx(0.01)
    # t(0.975, 2 df) = 4.3027: mean +- 4.3027 * 0.01 / sqrt(3) = [-0.0148, 0.0348], low clipped at 0
    assert three["risk_mean_low"] == 0.0
    assert three["risk_mean_high"] == pytest.approx(0.01 + 4.302653 * 0.01 / np.sqrt(3), rel=1e-5)
    assert one["n_seeds"] == 1 and one["risk_mean"] == pytest.approx(0.3)
    assert np.isnan(one["risk_std"]) and np.isnan(one["risk_mean_low"])


def test_the_level_sets_the_clopper_pearson_and_the_t_interval():
    from scipy.stats import beta, t

    df = pd.DataFrame({"correct": [1] * 17 + [0] * 3, "radius": np.nan, "p_lower": np.nan, "n_evals": 1})
    wide, narrow = analysis.summarize(df, [], 0.99), analysis.summarize(df, [], 0.8)
    assert wide["risk_low"] < narrow["risk_low"] < 0.15 < narrow["risk_high"] < wide["risk_high"]
    assert narrow["risk_low"] == pytest.approx(beta.ppf(0.1, 3, 18))  # two-sided, 10% per tail
    assert narrow["risk_high"] == pytest.approx(beta.ppf(0.9, 4, 17))
    risk = pd.DataFrame({"alpha": 0.5, "beta": 0.5, "seed": [0, 1, 2], "risk": [0.1, 0.2, 0.3]})
    row = analysis.across_seeds(risk, 0.8).iloc[0]
    assert row["risk_mean_high"] - 0.2 == pytest.approx(t.ppf(0.9, 2) * 0.1 / np.sqrt(3))


def fake_certification(path, alpha, beta, seed, wrong):
    """A certification table of 20 images, the first ``wrong`` of them misclassified."""
    n = 20
    pd.DataFrame({"alpha": alpha, "beta": beta, "seed": seed, "index": range(n), "label": 0,
                  "vote": [1] * wrong + [0] * (n - wrong), "count_top": 10, "count_second": 0,
                  "n_evals": 10, "count_cert": 0, "p_lower": np.nan, "radius": np.nan,
                  "abstain": 0, "correct": [0] * wrong + [1] * (n - wrong)}).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_aggregate_writes_the_intervals_at_the_level_it_is_given(tmp_path):
    """analysis.level reaches risk.csv and risk_seeds.csv: the rule passes --level, and a
    level other than 0.95 gives other intervals."""
    certs = [fake_certification(tmp_path / f"c{s}.csv", 0.5, 0.5, s, wrong) for s, wrong in ((0, 2), (1, 5))]
    tables = {}
    for level in (0.95, 0.5):
        out = tmp_path / str(level)
        out.mkdir()
        run_script("aggregate.py", "--certs", *certs, "--level", level, "--risk", out / "risk.csv",
                   "--seeds-summary", out / "seeds.csv")
        tables[level] = (pd.read_csv(out / "risk.csv"), pd.read_csv(out / "seeds.csv"))
    (risk95, seeds95), (risk50, seeds50) = tables[0.95], tables[0.5]
    assert list(risk95["risk"]) == list(risk50["risk"]) == [0.1, 0.25]
    assert (risk50["risk_low"] > risk95["risk_low"]).all() and (risk50["risk_high"] < risk95["risk_high"]).all()
    assert seeds50["risk_mean_high"].iloc[0] < seeds95["risk_mean_high"].iloc[0]


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
