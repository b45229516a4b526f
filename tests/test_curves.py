import numpy as np
import pytest
from scipy.optimize import lsq_linear
from scipy.signal import savgol_filter

from conftest import best_alpha
from rsmooth import curves

NINE = np.arange(9) * 0.125  # the default preset's alphas


@pytest.mark.parametrize("risk, dips_below_zero", [
    ([0.46, 0.12, 0.03, 0.01, 0.005, 0.004, 0.004, 0.005, 0.006], True),
    ([0.46, 0.20, 0.08, 0.04, 0.03, 0.026, 0.025, 0.027, 0.03], False)])
def test_savgol_overshoots_on_nine_alphas_and_the_fit_does_not(risk, dips_below_zero):
    risk = np.array(risk)
    sg = savgol_filter(risk, 9, 3)  # what a window 15 shrunk to 9 alphas would be: one cubic
    with pytest.raises(ValueError, match="longer than the 9 points"):
        curves.savgol(risk, 15, 3)  # so the window is never shrunk
    assert sg.min() < risk.min() - 0.01  # a valley no measurement shows...
    assert (sg.min() < 0) == dips_below_zero  # ...even a negative risk (-0.0245) in the first case
    fit, method = curves.fit_curves(NINE, risk)
    assert method == "unimodal"
    assert fit.min() >= risk.min() >= 0 and fit.max() <= 1
    np.testing.assert_allclose(fit, risk)  # already valley-shaped: the fit is the data
    star, at_star, _ = best_alpha(NINE, risk)
    assert star in NINE and at_star == risk.min()
    assert star == NINE[np.argmin(risk)]  # ties (0.004 twice) go to the smallest alpha


def test_unimodal_fit_pools_violators_into_means_of_the_data():
    risk = np.array([0.30, 0.10, 0.12, 0.05, 0.06, 0.04, 0.07, 0.065, 0.09])
    fit, method = curves.fit_curves(NINE, risk)
    assert method == "unimodal"
    # non-increasing pools (0.10, 0.12) and (0.05, 0.06); non-decreasing pools (0.07, 0.065)
    np.testing.assert_allclose(fit, [0.30, 0.11, 0.11, 0.055, 0.055, 0.04, 0.0675, 0.0675, 0.09])
    assert best_alpha(NINE, risk)[:2] == (0.625, 0.04)


def test_unimodal_fit_is_the_least_squares_valley():
    """Against an independent solver: for each mode m, bounded least squares over the valley
    f = c + (non-negative steps away from m), the best over m."""
    def brute(y):
        n, best = len(y), np.inf
        for m in range(n):
            cols = [np.ones(n)]
            cols += [(np.arange(n) <= j).astype(float) for j in range(m - 1, -1, -1)]
            cols += [(np.arange(n) >= j).astype(float) for j in range(m + 1, n)]
            x = np.array(cols).T
            lb = np.r_[-np.inf, np.zeros(n - 1)]
            f = x @ lsq_linear(x, y, bounds=(lb, np.full(n, np.inf)), method="bvls", tol=1e-14).x
            best = min(best, ((f - y) ** 2).sum())
        return best

    rng = np.random.default_rng(0)
    for _ in range(60):
        y = rng.random(rng.integers(3, 12))
        f = curves.unimodal_fit(y)
        k = int(np.argmin(f))
        assert np.all(np.diff(f[:k + 1]) <= 1e-15) and np.all(np.diff(f[k:]) >= -1e-15)
        assert ((f - y) ** 2).sum() <= brute(y) + 1e-12


def test_non_uniform_grid_is_not_given_to_savgol_and_finds_the_planted_valley():
    alphas = np.array([0, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.9])  # dense near 0.5
    risk = 0.02 + (alphas - 0.42) ** 2
    risk[[2, 7]] += [0.02, -0.004]  # two bumps that break the valley shape
    assert not curves.uniform_grid(alphas)
    fit, method = curves.fit_curves(alphas, risk, window=5, order=3)  # 5 <= 11 points: still not savgol
    assert method == "unimodal"
    star, at_star, _ = best_alpha(alphas, risk, window=5, order=3)
    assert star == 0.4 and at_star == pytest.approx(0.02 + 0.02 ** 2)
    assert risk.min() <= fit.min() and fit.max() <= risk.max()
    # the same curve given in another order gets the same fit, point by point
    perm = np.random.default_rng(1).permutation(len(alphas))
    np.testing.assert_allclose(curves.fit_curves(alphas[perm], risk[perm], 5, 3)[0], fit[perm])


def test_uniform_grid_with_a_full_window_uses_savgol():
    alphas = np.round(np.arange(0, 1, 0.05), 2)  # 20 evenly spaced alphas
    risk = 0.05 + 0.5 * (alphas - 0.4) ** 2 + 0.1 * (alphas - 0.4) ** 3
    fit, method = curves.fit_curves(alphas, risk, 15, 3)
    assert method == "savgol"
    np.testing.assert_allclose(fit, risk, atol=1e-12)  # a cubic passes through unchanged
    assert best_alpha(alphas, risk, 15, 3)[0] == 0.4
    assert curves.fit_curves(alphas[:14], risk[:14], 15, 3)[1] == "unimodal"  # 14 < window
    assert curves.fit_curves(alphas, risk, 14, 3)[1] == "unimodal"            # even window
    assert curves.fit_curves(alphas[:2], risk[:2])[1] == "raw"


def test_fits_stay_in_zero_one_and_above_the_smallest_risk():
    rng = np.random.default_rng(2)
    for alphas in (np.arange(20) * 0.05, NINE, np.sort(rng.random(12))):
        risks = rng.choice([0.0, 0.001, 0.5, 0.999, 1.0], size=(200, len(alphas)))
        fit, method = curves.fit_curves(alphas, risks, 15, 3)
        assert method == ("savgol" if len(alphas) == 20 else "unimodal")
        assert np.all(fit >= risks.min(axis=1, keepdims=True)) and np.all((0 <= fit) & (fit <= 1))
        idx, _ = curves.best_indices(alphas, risks, 15, 3)
        assert np.array_equal(fit[np.arange(200), idx], fit.min(axis=1))


def test_savgol_output_is_clipped():
    alphas = np.arange(15) * 0.1
    risk = np.r_[np.ones(7), np.zeros(8)]  # a step the cubic overshoots on both sides
    raw = savgol_filter(risk, 15, 3)
    assert raw.min() < 0 and raw.max() > 1
    fit, method = curves.fit_curves(alphas, risk, 15, 3)
    assert method == "savgol" and fit.min() == 0 and fit.max() == 1


def test_uniform_grid_tolerance_and_ties():
    assert curves.uniform_grid(np.arange(0, 1, 0.01))
    assert curves.uniform_grid(np.arange(10) * 0.1 + np.r_[0, 1e-12, np.zeros(8)])
    assert not curves.uniform_grid([0, 0.1, 0.3])
    assert best_alpha(NINE[::-1], np.full(9, 0.2)) == (0.0, 0.2, "unimodal")


@pytest.mark.parametrize("alphas, risks", [([0, 0, 1], [0.1, 0.2, 0.3]), ([0, 1, 2], [0.1, np.nan, 0.3]),
                                            ([0, 1, 2], [0.1, 0.2])])
def test_bad_input_is_refused(alphas, risks):
    with pytest.raises(ValueError):
        curves.fit_curves(alphas, risks)


def test_the_risk_figure_draws_no_risk_below_the_data_on_a_coarse_grid():
    """The paper's figure on the default's 9-alpha grid, where Savitzky-Golay (15 -> 9, 3)
    overshoots: every drawn line stays at or above the smallest measured risk, and the marked
    alpha* is a grid alpha whose fitted risk is one the data show."""
    import matplotlib
    import pandas as pd

    matplotlib.use("Agg")
    from rsmooth import figures

    alphas = np.arange(9) * 0.125
    risks = np.array([0.458, 0.30, 0.12, 0.05, 0.03, 0.026, 0.028, 0.027, 0.03])
    assert savgol_filter(risks, 9, 3).min() < risks.min()  # the overshoot the estimator avoids
    fit, method = curves.fit_curves(alphas, risks, 15, 3)
    star = best_alpha(alphas, risks, 15, 3)[0]
    df = pd.DataFrame({"seed": 0, "beta": 0.75, "alpha": alphas, "risk": risks, "risk_fitted": fit,
                       "curve_method": method, "n_images": 500})
    spread = pd.DataFrame({"beta": [0.75], "alpha_star_of_mean_curve": [star],
                           "alpha_star_low": [star - 0.125], "alpha_star_high": [star + 0.125],
                           "alpha_star_set": [f"{star - 0.125:g} {star:g} {star + 0.125:g}"]})
    fig = figures.risk_curves(df, spread, log_y=False)
    for line in fig.axes[0].get_lines():
        y = np.asarray(line.get_ydata(), float)
        assert (y >= risks.min() - 1e-12).all()
    marker = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "o"][0]
    assert float(marker.get_xdata()[0]) in alphas
