"""The whole DAG through snakemake, on a tiny generated MNIST-format dataset."""

import numpy as np
import pandas as pd
import pytest

import yaml

from conftest import REPO
from pipeline import copy_workflow, planned_jobs, snakemake, tiny_config, tiny_mnist

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def run(tiny_run):
    return tiny_run


def test_every_output_exists_with_the_right_columns(run):
    from rsmooth import data

    res = run / "results" / "mnist"
    # the certified images: a random sample of the test set, the same for every job
    sample = data.test_sample(len(data.load_cache(res / "data.npz", train=False).y_test), 30, "random", 0)
    assert sample.tolist() != list(range(30))
    for a in ("0", "0.25", "0.5"):
        assert (res / "models" / f"alpha{a}_seed0.pt").stat().st_size > 1000
        for b in ("0", "0.25", "0.5"):
            df = pd.read_csv(res / "certify" / f"alpha{a}_beta{b}_seed0.csv")
            assert list(df.columns) == ["alpha", "beta", "seed", "index", "label", "vote", "count_top",
                                        "count_second", "n_evals", "count_cert", "p_lower", "radius",
                                        "abstain", "correct"]
            assert df["index"].tolist() == sample.tolist()
            assert (df["count_top"] >= df["count_second"]).all()
            assert (df["n_evals"] <= 20).all() and (df["vote"].between(0, 9)).all()
            assert df["correct"].tolist() == (df["vote"] == df["label"]).astype(int).tolist()
            has_radius = a == b and b != "0"
            assert df["p_lower"].notna().all() == has_radius
    risk = pd.read_csv(res / "risk.csv")
    assert len(risk) == 9
    assert {"alpha", "beta", "seed", "n_test", "errors", "risk", "risk_low", "risk_high", "acr",
            "cert_acc_r0", "clean_test_acc"} <= set(risk.columns)
    assert (risk["sample"] == "random").all() and (risk["n_test"] == 30).all()
    assert risk["risk"].between(0, 1).all()
    assert (risk["risk_low"] <= risk["risk"]).all() and (risk["risk"] <= risk["risk_high"]).all()
    assert np.allclose(risk["risk"], risk["errors"] / risk["n_test"])
    star = pd.read_csv(res / "alpha_star.csv")
    assert sorted(star["beta"]) == [0, 0.25, 0.5]
    assert star["alpha_star"].isin([0, 0.25, 0.5]).all()
    assert (star["alpha_star_low"] <= star["alpha_star"]).all() and (star["alpha_star"] <= star["alpha_star_high"]).all()
    c3 = star[star["beta"] > 0]
    for name in ("contrast", "gap"):
        assert (c3[f"{name}_low"] <= c3[name]).all() and (c3[name] <= c3[f"{name}_high"]).all()
    assert star[star["beta"] == 0][["contrast", "gap"]].isna().all().all()  # no C3 at beta = 0
    assert c3["contrast_alpha"].tolist() == [0, 0.25]  # beta - delta, delta = 0.25
    curves = pd.read_csv(res / "curves.csv")
    assert len(curves) == 9 and (curves["risk_fitted"] >= curves.groupby(["seed", "beta"])["risk"].transform("min")).all()
    seeds = pd.read_csv(res / "risk_seeds.csv")
    assert len(seeds) == 9 and (seeds["n_seeds"] == 1).all()
    # the certified-accuracy curves the certified figure draws: the radius pairs, from radius 0
    cert = pd.read_csv(res / "certified.csv")
    pairs = cert.groupby(["alpha", "beta", "seed"])
    assert sorted(pairs.groups) == [(0.25, 0.25, 0), (0.5, 0.5, 0)]
    for (a, b, _), g in pairs:
        assert g["radius"].iloc[0] == 0 and g["radius"].is_monotonic_increasing
        assert g["cert_acc"].is_monotonic_decreasing
        at0 = risk[(risk["alpha"] == a) & (risk["beta"] == b)]["cert_acc_r0"].item()
        assert g["cert_acc"].iloc[0] == pytest.approx(at0, abs=1e-12)
    claims = pd.read_csv(res / "claims.csv")
    assert claims["claim"].tolist() == ["C1", "C2", "C3", "C3", "C3 gap", "C3 gap", "C3 set", "C3 set"]
    assert claims["beta"].tolist()[2:] == [0.25, 0.5] * 3
    for claim, name in (("C3", "contrast"), ("C3 gap", "gap")):  # one number per statistic and beta
        assert claims[claims["claim"] == claim]["estimate"].tolist() == c3[name].tolist()
    assert claims["verdict"].str.match(r"(supported|contradicted|undecided)").all()
    stats = claims[claims["claim"] != "C3 set"]
    assert (stats["low"] <= stats["estimate"]).all() and (stats["estimate"] <= stats["high"]).all()
    sets = claims[claims["claim"] == "C3 set"].set_index("beta")  # beta minus the ends of the alpha* set
    spread = pd.read_csv(res / "alpha_star_seeds.csv").set_index("beta").loc[sets.index]
    assert np.allclose(sets["low"], sets.index - spread["alpha_star_high"])
    assert np.allclose(sets["high"], sets.index - spread["alpha_star_low"])
    assert (star["curve_method"] == "unimodal").all()  # 3 alphas: no Savitzky-Golay window fits
    for fig in ("risk_curves", "heatmap", "certified", "alpha_star", "claims"):
        assert (res / "figures" / f"{fig}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (res / "figures" / f"{fig}.pdf").read_bytes()[:5] == b"%PDF-"
    assert "results: results" in (run / "results" / "config_used.yaml").read_text()
    assert "clean test accuracy" in (run / "results/logs/train/mnist/alpha0_seed0.log").read_text()


def test_no_python_source_is_parsed_off_the_main_thread(run):
    """The run used --cores 8, so light jobs ran side by side in Snakemake's job threads;
    parsing there races (python/cpython#106905), so every code fingerprint is computed once,
    while the workflow is read."""
    log = run.parent / "offmain_parse.log"
    assert not log.exists(), log.read_text()[:3000]


def test_code_fingerprints_refuse_to_run_off_the_main_thread():
    import threading

    from rsmooth import provenance

    caught = []

    def work():
        try:
            provenance.code_fingerprint(REPO / "scripts" / "certify.py")
        except RuntimeError as e:
            caught.append(str(e))

    t = threading.Thread(target=work, name="job-thread")
    t.start()
    t.join()
    assert caught and "main thread only" in caught[0] and "'job-thread'" in caught[0]


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


# --- reruns: only what a change touches (snakemake -n after each change) ---


@pytest.fixture
def edit_config(tiny_run):
    path = tiny_run / "config.yaml"
    original = path.read_text()

    def edit(fn):
        cfg = yaml.safe_load(original)
        fn(cfg)
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        return planned_jobs(tiny_run)

    yield edit
    path.write_text(original)


def test_adding_a_beta_reruns_only_that_betas_certification_and_what_follows(edit_config):
    def add(cfg):
        cfg["datasets"]["mnist"]["betas"].append(0.75)
    plan = edit_config(add)
    assert plan == {"config_used": 1, "certify": 3, "aggregate": 1, "claims": 1, "risk_curves": 1, "heatmap": 1, "alpha_star_figure": 1, "compare": 1,
                    "certified_figure": 1, "claims_figure": 1, "paper_comparison_figure": 1, "all": 1}, plan


def test_changing_a_figure_option_reruns_only_that_figure(edit_config):
    def opt(cfg):
        cfg["datasets"]["mnist"]["figures"] = {"heatmap": {"annotate": False}}
    assert edit_config(opt) == {"config_used": 1, "heatmap": 1, "all": 1}


def test_changing_training_epochs_reruns_training_and_everything_downstream(edit_config):
    def epochs(cfg):
        cfg["datasets"]["mnist"]["train"]["noisy"]["epochs"] = 2
    plan = edit_config(epochs)
    # h_0 keeps its recipe; the two noisy models, their 6 certifications, and all that follows
    assert plan == {"config_used": 1, "train": 2, "certify": 6, "aggregate": 1, "claims": 1, "risk_curves": 1, "heatmap": 1, "alpha_star_figure": 1, "certified_figure": 1,
                    "compare": 1, "claims_figure": 1, "paper_comparison_figure": 1, "all": 1}, plan


def test_editing_figure_code_reruns_only_the_figures(tiny_run, tmp_path):
    """The analysis jobs draw nothing (claims, compare: a 2,000-resample analysis each), so a
    one-line edit of rsmooth/figures.py, in a copy of the workflow, plans the figure jobs alone."""
    clone = copy_workflow(tmp_path / "clone")
    figures = clone / "rsmooth" / "figures.py"
    figures.write_text(figures.read_text() + "\n# an edit\n")
    r = snakemake(tiny_run, "-n", "--quiet", "rules", snakefile=clone / "Snakefile")
    plan = planned_jobs(tiny_run, output=r.stdout + r.stderr)
    assert plan == {"risk_curves": 1, "heatmap": 1, "alpha_star_figure": 1, "certified_figure": 1,
                    "claims_figure": 1, "paper_comparison_figure": 1, "all": 1}, plan


def test_successful_run_leaves_the_report_hint_in_its_log(tiny_run):
    logs = [p.read_text() for p in (tiny_run / ".snakemake" / "log").glob("*.snakemake.log")]
    assert any("snakemake --report results/report.html" in text for text in logs)


def test_report_contains_every_figure(tiny_run):
    import zipfile

    snakemake(tiny_run, "--report", "report.zip")
    names = zipfile.ZipFile(tiny_run / "report.zip").namelist()
    for fig in ("risk_curves", "heatmap", "certified", "alpha_star", "claims", "paper_comparison"):
        assert any(n.endswith(f"/{fig}.png") for n in names), (fig, names)
    for table in ("risk.csv", "alpha_star.csv", "risk_seeds.csv", "alpha_star_seeds.csv",
                  "config_used.yaml", "claims.csv", "environments.csv", "paper_comparison.csv",
                  "paper_claims.csv"):
        assert any(n.endswith(f"/{table}") for n in names), (table, names)
    snakemake(tiny_run, "--report", "report.html")
    html = (tiny_run / "report.html").read_text()
    assert "alpha_star.png" in html and "risk_curves.png" in html


def test_the_test_folder_holds_the_data_that_fakedata_generates(tmp_path):
    """.test/data is what tests/fakedata.py makes (its config is tiny_config's one home)."""
    from fakedata import fake_mnist

    assert tiny_config(mnist=tiny_mnist())["datasets"]["mnist"]["certify"]["n_test"] == 30
    fake_mnist(tmp_path, n_train=300, n_test=60)
    for f in (tmp_path / "MNIST" / "raw").iterdir():
        assert (REPO / ".test" / "data" / "MNIST" / "raw" / f.name).read_bytes() == f.read_bytes()
