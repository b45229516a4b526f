"""The paper's own tables beside ours (rsmooth/reference.py, scripts/compare.py, rules/compare.smk):
loading and checking a reference table (also when the workflow is read), nearest-point matching,
a planted comparison with known numbers, the fidelity verdicts (the ratio ours / paper and its
interval, alpha* against our confidence set), the replayed claims, and the stage in the workflow
(run, or skipped without a table)."""
import numpy as np
import pandas as pd
import pytest
from scipy.signal import savgol_filter

from conftest import REPO
from pipeline import planned_jobs, run_script, snakemake, tiny_config, tiny_mnist
from rsmooth import reference

MNIST = REPO / "reference" / "pal_sulam_2023_mnist_risk.csv"
CIFAR = REPO / "reference" / "pal_sulam_2023_cifar10_risk.csv"


# --- the shipped tables: what the files themselves show (docs/results.md, findings) ---

def test_the_paper_tables_are_errors_over_10000_and_400_test_images():
    mnist, n = reference.load_reference(MNIST)
    assert n == 10_000 and mnist["alpha"].nunique() == 98 and mnist["beta"].nunique() == 10
    grid = {round(0.01 * k, 2) for k in range(100)}
    assert grid - set(mnist["alpha"]) == {0.53, 0.59}
    cifar, n = reference.load_reference(CIFAR)
    assert n == 400 and cifar["alpha"].nunique() == 53  # not the 4,000 of the paper's text
    assert np.allclose(cifar["errors"] / cifar["risk"], 400)
    assert 0.12 not in set(cifar["alpha"]) and {0.11, 0.13} <= set(cifar["alpha"])


def test_the_default_reference_follows_the_source():
    assert reference.resolve("paper", "mnist") == MNIST
    assert reference.resolve("paper", "cifar10") == CIFAR
    assert reference.resolve("paper", "npz") is None          # a user's own data: no table
    assert reference.resolve("paper", "mnist", [3, 8]) is None  # a subset of the classes: no table
    assert reference.resolve(None, "mnist") is None
    assert reference.resolve(str(MNIST), "npz") == MNIST
    with pytest.raises(ValueError, match="reference table nowhere.csv: no such file"):
        reference.resolve("nowhere.csv", "mnist")


# --- bad files: one line naming the file and the problem ---

GOOD = "alpha,beta,errors,risk\n0,0,1,0.1\n0,0.5,5,0.5\n0.5,0,2,0.2\n0.5,0.5,3,0.3\n"


@pytest.mark.parametrize("text, problem", [
    (GOOD.replace(",risk", ",risks"), "missing column(s) ['risk']"),
    (GOOD.replace("0,0.5,5,0.5", "0,0.5,five,0.5"), "column errors is not numeric (line 3: 'five')"),
    (GOOD.replace("0.5,0,2,0.2", "0.5,0,2,0.25"), "errors / risk is 10 on line 2 but 8 on line 4"),
    (GOOD.replace("0,0,1,0.1", "0,0,1,0"), "risk 0 with errors > 0 (line 2)"),
    (GOOD.replace("0,0,1,0.1", "0,0,1.5,0.15"), "errors not a count >= 0 (line 2)"),
    (GOOD.replace("0,0,1,0.1", "0,0,11,1.1"), "risk outside [0, 1] (line 2)"),
    (GOOD.replace("0.5,0.5,3,0.3", "0.5,0,3,0.3"), "(alpha, beta) repeated (line 5)"),
    (GOOD.replace("0.5,0.5,3,0.3\n", ""), "not a full alpha x beta grid (3 rows for 2 alphas x 2 betas)"),
    ("alpha,beta,errors,risk\n", "the table has no rows"),
])
def test_a_bad_reference_table_is_refused_in_one_line(tmp_path, text, problem):
    path = tmp_path / "ref.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as e:
        reference.load_reference(path)
    assert str(e.value).startswith(f"{path}: ") and problem in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_the_script_turns_a_bad_table_into_one_line(tmp_path):
    path = tmp_path / "ref.csv"
    path.write_text(GOOD.replace("0,0.5,5,0.5", "0,0.5,five,0.5"))
    r = run_script("compare.py", "--replay", path, "--claims", tmp_path / "out.csv", check=False)
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0, r.stderr
    assert r.stderr.startswith(f"error: {path}: column errors is not numeric")
    assert not (tmp_path / "out.csv").exists()


# --- nearest-point matching ---

def test_matching_takes_the_nearest_reference_value_closer_than_the_tolerance():
    ref = [0, 0.12, 0.13, 0.25, 0.3, 0.99]
    got = reference.match([0.25, 0.125, 0.3049, 0.31, 1.0, 0.0001], ref)
    assert np.array_equal(got, [0.25, np.nan, 0.3, np.nan, np.nan, 0], equal_nan=True)
    assert reference.match([1.0], ref, tolerance=0.02)[0] == 0.99
    assert np.isnan(reference.match([0.5], [])[0])


# --- a planted comparison with known numbers ---

def planted():
    """A reference of 3 alphas x 2 betas over 100 images, and our risk and alpha* tables over 50
    images on alphas 0, 0.1, 0.25 and betas 0, 0.1, 0.3 (0.25 and 0.3 are not on its grid)."""
    ref = pd.DataFrame({"alpha": [0, 0.1, 0.2] * 2, "beta": [0.0] * 3 + [0.1] * 3,
                        "errors": [5, 8, 10, 20, 6, 9]}).assign(risk=lambda d: d["errors"] / 100)
    rows = []
    errors = {0: [2, 3, 6], 0.1: [10, 4, 5], 0.3: [25, 20, 3]}
    for beta, es in errors.items():
        for alpha, e in zip([0, 0.1, 0.25], es):
            low, high = reference.cp(e, 50)
            rows.append({"alpha": alpha, "beta": beta, "seed": 0, "n_test": 50, "errors": e, "risk": e / 50,
                         "risk_low": low, "risk_high": high})
    risk = pd.DataFrame(rows)
    star = pd.DataFrame({"seed": 0, "beta": [0, 0.1, 0.3], "alpha_star": [0, 0.1, 0.25],
                         "alpha_star_set": ["0 0.1", "0.1", "0.1 0.25"], "curve_method": "unimodal"})
    return ref, risk, star


def compare(risk, star, ref, n, **kwargs):
    """reference.compare at the schema's tolerance and level."""
    return reference.compare(risk, star, ref, n, **{"fidelity": (0.8, 1.25), "level": 0.95, **kwargs})


def test_a_planted_comparison_gives_the_known_numbers():
    ref, risk, star = planted()
    out = compare(risk, star, ref, 100)
    assert list(out.columns) == reference.COLUMNS[1:]
    cells = out[out["quantity"] == "risk"]
    assert list(zip(cells["alpha_ours"], cells["beta"])) == [(0, 0), (0.1, 0), (0, 0.1), (0.1, 0.1)]
    assert cells["ours"].tolist() == [0.04, 0.06, 0.2, 0.08]
    assert cells["paper"].tolist() == [0.05, 0.08, 0.2, 0.06]
    assert np.allclose(cells["difference"], [-0.01, -0.02, 0, 0.02])
    first = cells.iloc[0]  # Clopper-Pearson 95% of 5 / 100 and 2 / 50
    assert (round(first["paper_low"], 5), round(first["paper_high"], 5)) == (0.01643, 0.11283)
    assert (round(first["ours_low"], 5), round(first["ours_high"], 5)) == (0.00488, 0.13714)
    assert cells["overlap"].tolist() == [True, True, True, True]
    assert (out["tolerance"] == 0.005).all() and (out["level"] == 0.95).all() and (out["paper_images"] == 100).all()
    assert cells["seed"].isna().all() and (cells["n_seeds"] == 1).all()  # risk rows: over every seed
    assert np.allclose(cells["ratio"], [0.8, 0.75, 1, 4 / 3])  # 50 and 100 images: every one undecided
    assert (cells["agrees"] == "undecided").all() and (cells["our_images"] == "unknown 50").all()

    def at(q, beta):
        return out[(out["quantity"] == q) & np.isclose(out["beta"], beta)].iloc[0]

    # beta = 0.1: our alpha* 0.1 (interval 0.1 to 0.1); the paper's: 3 alphas hold no window, raw argmin 0.1
    s = at("alpha_star", 0.1)
    assert (s["ours"], s["ours_low"], s["ours_high"], s["paper"], s["difference"]) == (0.1, 0.1, 0.1, 0.1, 0.0)
    assert at("alpha_star_raw", 0.1)["paper"] == 0.1 and at("risk_alpha_star", 0.1)["paper"] == 0.06
    assert at("risk_alpha0", 0.1)[["ours", "paper"]].tolist() == [0.2, 0.2]
    assert at("risk_alpha_beta", 0.1)[["alpha_ours", "alpha_paper", "ours", "paper"]].tolist() == [0.1, 0.1, 0.08, 0.06]
    # beta = 0.3: ours alone; alpha = beta read at 0.25, which the note says
    s = at("risk_alpha_beta", 0.3)
    assert np.isnan(s["beta_paper"]) and np.isnan(s["paper"]) and s["ours"] == 0.06
    assert s["note"] == "no alpha = beta on our grid: read at alpha 0.25"
    # the paper's alpha* (0 and 0.1: raw argmins) in our sets {0 0.1} and {0.1}; none at beta 0.3
    assert out.loc[out["quantity"] == "alpha_star", "agrees"].tolist() == ["yes", "yes", ""]
    assert "confidence set {0 0.1}" in at("alpha_star", 0)["note"]
    # every (seed, beta) of ours and no reference beta left out: 3 x 5 per-beta rows
    assert len(out) == 4 + 3 * 5 and out["seed"].notna().sum() == 3 * 5


def test_a_reference_beta_that_none_of_ours_has_is_the_papers_side_alone():
    ref, risk, star = planted()
    out = compare(risk[risk["beta"] != 0.1], star[star["beta"] != 0.1], ref, 100)
    alone = out[out["seed"].isna() & (out["quantity"] != "risk")]
    assert alone["quantity"].tolist() == list(reference.QUANTITIES) and (alone["beta"] == 0.1).all()
    assert alone["ours"].isna().all() and alone["paper"].notna().all()


# --- the fidelity verdicts: the ratio ours / paper, and alpha* against our confidence set ---

def test_the_ratio_interval_of_two_seeds_is_the_hand_computation():
    """Ours 190 and 210 errors over 10,000 images (mean 0.02, seed sd 0.0014), the paper 200 over
    10,000: ratio 1; on the log scale V / p^2 = 2e-6 / 0.02^2 = 0.005, our side max(0.005 / 2,
    0.98 / 400) = 0.0025, the paper's 0.98 / 200 + 0.005 (its one model's luck) = 0.0099;
    Welch-Satterthwaite df = 0.0124^2 / (0.0075^2 / 1) = 2.73."""
    from scipy.stats import t

    ratio, low, high, df, note = reference.risk_ratio([190, 210], [10_000, 10_000], 200, 10_000, 0.95)
    se = np.sqrt(0.0025 + 0.0049 + 0.005)
    assert ratio == pytest.approx(1) and df == pytest.approx(0.0124 ** 2 / 0.0075 ** 2)
    q = t.isf(0.025, 0.0124 ** 2 / 0.0075 ** 2)
    assert (low, high) == pytest.approx((np.exp(-q * se), np.exp(q * se)))
    assert (round(low, 4), round(high, 4)) == (0.6875, 1.4546) and note == "ratio interval: Student-t, 2.73 df"
    # one seed: binomial on both sides and a normal quantile, exp(+-1.96 sqrt(0.98 / 200 * 2)) = [0.8236, 1.2141]
    ratio, low, high, df, note = reference.risk_ratio([200], [10_000], 200, 10_000, 0.95)
    assert (round(low, 4), round(high, 4)) == (0.8236, 1.2141) and np.isinf(df) and note == "ratio interval: normal"
    # seeds that agree exactly: our side is floored at the binomial over all 20,000 images, the paper's adds no luck
    _, low, high, df, _ = reference.risk_ratio([200, 200], [10_000, 10_000], 200, 10_000, 0.95)
    half = 1.959964 * np.sqrt(0.98 / 400 + 0.98 / 200)
    assert (low, high) == pytest.approx((np.exp(-half), np.exp(half))) and np.isinf(df)


@pytest.mark.parametrize("interval, verdict", [
    ((0.8, 1.25), "yes"), ((0.95, 1.05), "yes"),            # inside, the ends included
    ((0.5, 0.79), "no"), ((1.3, 2.0), "no"),                # entirely below or above
    ((0.7, 1.1), "undecided"), ((0.9, 1.3), "undecided"), ((0.5, 2.0), "undecided"),  # straddling
    ((np.nan, np.nan), ""),
])
def test_the_fidelity_verdict_is_an_equivalence_test(interval, verdict):
    assert reference.fidelity_verdict(*interval, (0.8, 1.25)) == verdict


def test_planted_cells_inside_outside_and_straddling_the_tolerance_get_the_three_verdicts():
    """One seed over 10,000 images against the paper's 10,000: 2,000 errors each (ratio 1, tight),
    1,000 against 2,000 (ratio 0.5, tight), 10 each (ratio 1, but too few errors to tell)."""
    ref = pd.DataFrame({"alpha": [0.0, 0.5, 1.0], "beta": 0.0, "errors": [2000, 2000, 10]})
    ref["risk"] = ref["errors"] / 10_000
    risk = pd.DataFrame({"alpha": [0.0, 0.5, 1.0], "beta": 0.0, "seed": 0, "n_test": 10_000,
                         "errors": [2000, 1000, 10], "sample": "random"})
    risk["risk"] = risk["errors"] / 10_000
    risk[["risk_low", "risk_high"]] = [reference.cp(e, 10_000) for e in risk["errors"]]
    star = pd.DataFrame({"seed": [0], "beta": [0.0], "alpha_star": [1.0], "alpha_star_set": ["1"],
                         "curve_method": "valley"})
    out = compare(risk, star, ref, 10_000).set_index("quantity")
    cells = out.loc["risk"]
    assert cells["agrees"].tolist() == ["yes", "no", "undecided"]
    assert np.allclose(cells["ratio"], [1, 0.5, 1])
    assert (cells["our_images"] == "random 10000").all() and (cells["paper_images"] == 10_000).all()
    assert reference.summary(out.reset_index()).startswith(
        "risk, 3 cells (ratio ours / paper within [0.8, 1.25]): 1 agree, 1 disagree, 1 undecided; alpha*, 1")
    # the first cell's interval [0.946, 1.057] is inside [0.8, 1.25] but not inside [0.95, 1.05]
    assert (round(cells["ratio_low"].iloc[0], 3), round(cells["ratio_high"].iloc[0], 3)) == (0.946, 1.057)
    assert compare(risk, star, ref, 10_000, fidelity=(0.95, 1.05)).loc[0, "agrees"] == "undecided"


def test_zero_errors_count_as_half_an_error():
    ratio, low, high, df, note = reference.risk_ratio([0], [10_000], 0, 10_000, 0.95)
    half = 1.959964 * np.sqrt(2 * (1 - 0.5 / 10_000) / 0.5)
    assert ratio == 1 and (low, high) == pytest.approx((np.exp(-half), np.exp(half)))
    assert note == "ratio interval: normal; no errors of ours: counted as half an error; " \
                   "no errors in the paper: counted as half an error"
    assert reference.fidelity_verdict(low, high, (0.8, 1.25)) == "undecided"
    # none of ours in 2 x 10,000 images against 50 of the paper's: 0.5 / 20,000 over 50 / 10,000, clearly below
    ratio, low, high, df, note = reference.risk_ratio([0, 0], [10_000, 10_000], 50, 10_000, 0.95)
    assert ratio == pytest.approx(0.005) and np.isinf(df) and high < 0.8 and np.isfinite(low)
    assert note == "ratio interval: normal; no errors of ours: counted as half an error"


@pytest.mark.parametrize("paper, members, grid, verdict", [
    (0.3, [0.25, 0.5], [0, 0.25, 0.5, 0.75, 1], "yes"),
    (0.25, [0.25, 0.5], [0, 0.25, 0.5, 0.75, 1], "yes"),        # an end of the span
    (0.5, [0.25, 0.75], [0, 0.25, 0.5, 0.75, 1], "yes"),        # the span of a set with a hole
    (0.2, [0.25, 0.5], [0, 0.25, 0.5, 0.75, 1], "undecided"),   # between the set and the grid alpha below it
    (0.6, [0.25, 0.5], [0, 0.25, 0.5, 0.75, 1], "undecided"),
    (0.0, [0.25, 0.5], [0, 0.25, 0.5, 0.75, 1], "no"),          # a grid alpha outside the set
    (0.9, [0.25, 0.5], [0, 0.25, 0.5, 0.75, 1], "no"),          # beyond one
    (0.1, [0.25], [0.25, 0.5], "undecided"),                    # beyond our grid
    (0.6, [0.5], [0, 0.25, 0.5], "undecided"),
    (np.nan, [0.5], [0, 0.25, 0.5], ""),
])
def test_the_papers_alpha_star_against_our_confidence_set(paper, members, grid, verdict):
    agrees, why = reference.star_verdict(paper, members, grid)
    assert agrees == verdict
    assert ("cannot resolve" in why) == (verdict == "undecided") and bool(why) == (verdict in ("no", "undecided"))


def test_our_images_say_which_and_how_many():
    assert reference.images_text("random", 3000) == "random 3000"
    assert reference.images_text("all", 10_000) == "all 10000" and reference.images_text("first", 500.0) == "first 500"
    assert reference.images_text(None, 500) == "unknown 500" and reference.images_text(np.nan, 500) == "unknown 500"
    ref, risk, star = planted()
    out = compare(risk.assign(sample="first"), star, ref, 100)
    assert (out["our_images"] == "first 50").all()  # every row has a side of ours here


def test_several_seeds_give_one_row_per_cell_with_the_interval_over_seeds():
    ref, risk, star = planted()
    two = pd.concat([risk, risk.assign(seed=1, errors=risk["errors"] + 2, risk=(risk["errors"] + 2) / 50)])
    out = compare(two, pd.concat([star, star.assign(seed=1)]), ref, 100)
    cells = out[out["quantity"] == "risk"]
    assert len(cells) == 4 and (cells["n_seeds"] == 2).all() and cells["seed"].isna().all()
    first = cells.iloc[0]  # 2 and 4 errors over 50: mean 0.06 +- t(1) sd / sqrt(2), clipped at 0
    assert first["ours"] == pytest.approx(0.06) and first["ours_low"] == 0
    assert first["ours_high"] == pytest.approx(0.06 + 12.7062 * 0.04 / 2 ** 0.5 / 2 ** 0.5, rel=1e-5)
    assert first["note"].startswith("ratio interval: Student-t")


def test_the_tolerance_must_hold_one():
    assert reference.fidelity_band([0.8, 1.25]) == (0.8, 1.25)
    for bad in ([1.25, 0.8], [1, 1.25], [0.8, 0.9]):
        with pytest.raises(ValueError, match=r"needs 0 < low < 1 < high, not \["):
            reference.fidelity_band(bad)


def test_the_compare_command_writes_the_verdicts_and_counts_them(tmp_path):
    ref, risk, star = planted()
    for name, df in (("ref", ref), ("risk", risk), ("star", star)):
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    args = ["--reference", tmp_path / "ref.csv", "--risk", tmp_path / "risk.csv", "--alpha-star",
            tmp_path / "star.csv", "--out", tmp_path / "out.csv", "--n-boot", "20"]
    r = run_script("compare.py", *args)
    assert "risk, 4 cells (ratio ours / paper within [0.8, 1.25]): 0 agree, 0 disagree, 4 undecided; " \
           "alpha*, 2 (seed, beta) rows" in r.stdout  # beta 0.3: no alpha* of the paper
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert list(out.columns) == reference.COLUMNS and set(out["agrees"]) == {"yes", "undecided", ""}
    (tmp_path / "out.csv").unlink()
    r = run_script("compare.py", *args, "--fidelity-ratio", "1.25", "0.8", check=False)
    assert r.returncode == 2 and "--fidelity-ratio: the tolerance [low, high]" in r.stderr
    assert not (tmp_path / "out.csv").exists()


def test_the_papers_alpha_star_is_the_savgol_argmin_over_positions_of_an_uneven_grid():
    alphas = [round(0.01 * k, 2) for k in range(20) if k != 5]  # 0.05 missing, as 0.53 in MNIST
    rng = np.random.default_rng(3)
    risks = 0.02 + (np.arange(19) - 11.0) ** 2 / 2000 + rng.normal(0, 0.004, 19)
    smooth = savgol_filter(risks, 15, 3)  # the authors' call: positions, not alpha values
    assert reference.paper_alpha_star(alphas, risks) == alphas[int(np.argmin(smooth))] == 0.13
    assert reference.raw_argmin(alphas, risks) == alphas[int(np.argmin(risks))] == 0.12
    assert reference.paper_alpha_star(alphas[::-1], risks[::-1]) == 0.13  # order of the rows: none


# --- the claims replayed on counts ---

def test_replayed_claims_use_the_pipelines_statistics_on_counts():
    from rsmooth.claims import COLUMNS

    ref = pd.DataFrame([(a, b, e) for b, es in ((0.0, [10, 20, 40]), (0.5, [300, 30, 60]), (1.0, [600, 200, 50]))
                        for a, e in zip([0, 0.5, 1.0], es)], columns=["alpha", "beta", "errors"])
    ref["risk"] = ref["errors"] / 1000
    out = replay(ref, 1000, n_boot=200, rng_seed=1, delta=0.5)
    assert list(out.columns) == COLUMNS
    assert out["claim"].tolist() == ["C1", "C2", "C3", "C3", "C3 gap", "C3 gap", "C3 set", "C3 set"]
    c1, c2, k05, k1, c3a, c3b, set05, set1 = out.itertuples()
    # the contrasts: risk(0.5) - risk(0) at beta 0.5 = 0.03 - 0.3; risk(1) - risk(0.5) at beta 1 = 0.05 - 0.2
    # the only smaller alpha, 0, is far worse at beta 0.5: C3 contradicted there (every smaller alpha)
    assert np.isclose(k05.estimate, -0.27) and k05.verdict == "contradicted (conditional on models)"
    assert "every smaller alpha of the grid shown worse" in k05.note
    # at beta 1, alpha 0.5 (beta - delta) is worse, but not every smaller alpha need be shown so
    assert k1.verdict in ("undecided", "contradicted (conditional on models)")
    assert np.isclose(k1.estimate, -0.15) and "risk(alpha=1) - risk(alpha=0.5)" in k1.note
    assert np.isclose(c1.estimate, 0.59)  # least-squares slope of 0.01, 0.3, 0.6 over 0, 0.5, 1
    assert np.isclose(c2.estimate, 1.0)   # alpha* = 0, 0.5, 1: the raw minima (3 alphas: unimodal = data)
    assert c1.verdict == c2.verdict == "supported (conditional on models)"
    assert c3a.beta == 0.5 and c3a.estimate == 0 and c3a.verdict == "undecided"  # alpha* = beta
    assert c3b.verdict == "undecided" and "no verdict from counts" in c3b.note  # gaps never decide here
    assert set05.verdict == "contradicted (conditional on models)" and "alpha* set {0.5};" in set05.note
    assert (out["n_images"] == 1000).all() and (out["n_seeds"] == 1).all()
    assert out["note"].str.contains("per-image errors, which were not released").all()
    again = replay(ref, 1000, n_boot=200, rng_seed=1, delta=0.5)
    pd.testing.assert_frame_equal(out, again)


def replay(ref, n, **kwargs):
    """reference.replay_claims with the schema's defaults for what ``kwargs`` leaves."""
    return reference.replay_claims(ref, n, **{"window": 15, "order": 3, "level": 0.95, "n_boot": 200,
                                              "rng_seed": 0, "delta": None, **kwargs})


def test_the_replay_gives_no_gap_verdict_on_a_flat_bottomed_table():
    """A flat bottom (alphas 0.3-0.6 equally good at beta 0.6, 10,000 images): the gap chosen
    and measured on the same counts leans above 0, so the replay never reads it as support;
    the contrast and the set stay undecided."""
    alphas = np.round(np.arange(0, 0.81, 0.05), 2)
    risk = {0.0: np.full(len(alphas), 0.01),
            0.6: np.where(alphas < 0.3, 0.02 + (0.3 - alphas) * 0.2, np.where(alphas > 0.6, 0.02 + (alphas - 0.6) * 0.2, 0.02))}
    for k in range(20):
        errors = {b: np.random.default_rng(k).binomial(10_000, r) for b, r in risk.items()}
        ref = pd.DataFrame([(a, b, errors[b][i]) for b in risk for i, a in enumerate(alphas)],
                           columns=["alpha", "beta", "errors"])
        ref["risk"] = ref["errors"] / 10_000
        out = replay(ref, 10_000, delta=0.2, rng_seed=k).set_index("claim")
        assert out.loc["C3 gap", "verdict"] == "undecided"
        assert out.loc["C3", "verdict"] == "undecided" and out.loc["C3 set", "verdict"] == "undecided"


def test_the_replay_command_prints_and_writes_the_claims(tmp_path):
    r = run_script("compare.py", "--replay", MNIST, "--n-boot", "50", "--claims", tmp_path / "c.csv")
    assert "errors over 10000 test images" in r.stdout and "| C1 |" in r.stdout
    claims = pd.read_csv(tmp_path / "c.csv")
    assert claims["claim"].tolist() == ["C1", "C2"] + ["C3"] * 9 + ["C3 gap"] * 9 + ["C3 set"] * 9
    contrast = claims[claims["claim"] == "C3"].set_index("beta")
    assert contrast.loc[[0.1, 0.2], "estimate"].isna().all()  # beta - 0.25 < 0: no contrast
    assert "risk(alpha=0.9) - risk(alpha=0.65)" in contrast.loc[0.9, "note"]


# --- the stage in the workflow ---

@pytest.mark.e2e
@pytest.mark.slow
def test_the_tiny_run_writes_the_comparison_and_its_figure(tiny_run):
    res = tiny_run / "results" / "mnist"
    out = pd.read_csv(res / "paper_comparison.csv")
    assert list(out.columns) == reference.COLUMNS
    cells = out[out["quantity"] == "risk"]
    assert sorted(set(cells["beta"])) == [0, 0.5] and len(cells) == 6  # 0.25 is not on the paper's betas
    assert (cells["paper_images"] == 10_000).all() and (cells["n_ours"] == 30).all()
    assert set(cells["agrees"]) <= {"yes", "no", "undecided"} and (cells["fidelity_low"] == 0.8).all()
    claims = pd.read_csv(res / "paper_claims.csv")
    assert claims["claim"].tolist() == ["C1", "C2"] + ["C3"] * 9 + ["C3 gap"] * 9 + ["C3 set"] * 9
    assert (res / "figures" / "paper_comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (res / "figures" / "paper_comparison.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("how", ["null", "npz"])
def test_a_dataset_without_a_reference_skips_the_stage(tmp_path, how):
    if how == "null":
        ds = tiny_mnist(reference=None)
    else:
        (tmp_path / "mine.npz").write_bytes(b"planned, not read")
        ds = tiny_mnist(source="npz", path="mine.npz")
    plan = planned_jobs(tmp_path) if snakemake(tmp_path, "-n", config=tiny_config(mine=ds)) else None
    assert plan.get("aggregate") == 1 and "compare" not in plan, plan


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("key, value, line", [
    ("reference", "{table}", "config key datasets.mnist.reference: {table}: column errors is not numeric (line 3: 'five')"),
    ("analysis", {"fidelity_ratio": [1.25, 0.8]}, "config key datasets.mnist.analysis.fidelity_ratio: the tolerance "
                                                  "[low, high] of the ratio ours / paper needs 0 < low < 1 < high, not [1.25, 0.8]"),
])
def test_a_malformed_table_or_tolerance_is_refused_in_one_line_when_the_workflow_is_read(tmp_path, key, value, line):
    table = tmp_path / "mine.csv"
    table.write_text(GOOD.replace("0,0.5,5,0.5", "0,0.5,five,0.5"))
    value = value.format(table=table) if isinstance(value, str) else value
    r = snakemake(tmp_path, "-n", config=tiny_config(mnist=tiny_mnist(**{key: value})), check=False)
    assert r.returncode != 0
    assert line.format(table=table) in (r.stdout + r.stderr).splitlines(), r.stdout + r.stderr
    assert not (tmp_path / "results").exists()


def test_model_luck_is_pooled_over_cells_with_their_degrees_of_freedom():
    import pandas as pd

    # cell A: risks 0.019, 0.021 (relative variance 2e-6 / 0.02^2 = 0.005, 1 df); cell B: 0.09,
    # 0.10, 0.11 (1e-4 / 0.1^2 = 0.01, 2 df); cell C one seed: no part
    risk = pd.DataFrame({"alpha": [0, 0, .5, .5, .5, .7], "beta": [.5] * 6,
                         "risk": [0.019, 0.021, 0.09, 0.10, 0.11, 0.3]})
    v, df = reference.model_luck(risk)
    assert df == 3 and v == pytest.approx((0.005 * 1 + 0.01 * 2) / 3)
    assert reference.model_luck(risk.iloc[[0, 5]]) == (0.0, 0)
    # the pooled df reaches the ratio's Welch-Satterthwaite df (one cell alone: 2.73, above)
    *_, df_cell, note = reference.risk_ratio([190, 210], [10_000, 10_000], 200, 10_000, 0.95, (0.005, 10))
    assert df_cell == pytest.approx(0.0124 ** 2 / (0.0075 ** 2 / 10)) and "27.3 df" in note
