"""Results follow their code, data and environment (issue 14): content fingerprints, rerun
plans after edits, the environment record, and paths with spaces and non-ASCII characters."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, shared_data_or_skip
from fakedata import fake_mnist
from pipeline import copy_workflow, rule_args, planned_jobs, run_script, snakemake, tiny_config, tiny_mnist
from rsmooth import config, datafiles, provenance, rng



# --- unit: fingerprints -----------------------------------------------------------------------

def test_code_files_follow_the_imports_of_each_script():
    def names(script):
        return {f"{f.parent.name}/{f.name}" for f in provenance.code_files(REPO / "scripts" / script)}

    assert {"rsmooth/core.py", "rsmooth/models.py", "rsmooth/runtime.py"} <= names("certify.py")
    assert "rsmooth/core.py" not in names("train.py")  # training does not use the smoothing math
    assert {"scripts/train.py", "rsmooth/training.py", "rsmooth/models.py", "rsmooth/runtime.py", "rsmooth/data.py",
            "rsmooth/datafiles.py", "rsmooth/io.py", "rsmooth/seeding.py"} <= names("train.py")
    assert "rsmooth/core.py" in names("aggregate.py")  # through analysis.py, imported in a function
    assert "rsmooth/models.py" not in names("aggregate.py")  # the tables do not build networks


def clone_code(dst: Path) -> Path:
    """A copy of the scripts and the package in another folder, as a fresh clone has them."""
    for item in ("scripts", "rsmooth"):
        shutil.copytree(REPO / item, dst / item, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def fingerprints(root: Path, *scripts: str) -> list[str]:
    """provenance.code_fingerprint of ``root/scripts/SCRIPT`` computed by the rsmooth package of
    ``root``, as the workflow of a checkout in ``root`` computes it (its own package first)."""
    code = ("import sys; from rsmooth import provenance; print(provenance.__file__); "
            "print(*(provenance.code_fingerprint(s) for s in sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, *(str(root / "scripts" / s) for s in scripts)], cwd=root,
                       env=dict(os.environ, PYTHONPATH=str(root)), capture_output=True, text=True, check=True)
    where, digests = r.stdout.splitlines()
    assert Path(where).parent == root / "rsmooth", where  # the clone's own package
    return digests.split()


def test_code_fingerprints_follow_content_not_place_or_time(tmp_path):
    here = [provenance.code_fingerprint(REPO / "scripts" / s) for s in ("certify.py", "train.py")]
    assert len(set(here)) == 2 and all(len(d) == provenance.DIGEST_LEN for d in here)
    clone = clone_code(tmp_path / "elsewhere")
    assert fingerprints(clone, "certify.py", "train.py") == here  # the same bytes in another folder
    for f in clone.rglob("*.py"):
        os.utime(f, (0, 0))  # a touch (to any time) of every file
    assert fingerprints(clone, "certify.py", "train.py") == here


def test_an_edit_changes_the_fingerprints_of_the_scripts_that_use_the_file_and_no_other(tmp_path):
    clone = clone_code(tmp_path / "clone")
    scripts = ("certify.py", "train.py", "aggregate.py", "prepare_data.py")
    before = dict(zip(scripts, fingerprints(clone, *scripts)))

    def after_editing(path: str) -> set[str]:
        """The scripts whose fingerprint the edit of ``path`` changes; the edit is then undone."""
        f = clone / path
        original = f.read_bytes()
        f.write_bytes(original + b"\n# an edit\n")
        now = dict(zip(scripts, fingerprints(clone, *scripts)))
        f.write_bytes(original)
        return {s for s in scripts if now[s] != before[s]}

    assert after_editing("rsmooth/core.py") == {"certify.py", "aggregate.py"}  # not training, nor the data
    assert after_editing("rsmooth/runtime.py") == {"certify.py", "train.py", "aggregate.py"}  # via core.py
    assert after_editing("rsmooth/models.py") == {"certify.py", "train.py"}
    assert after_editing("rsmooth/datafiles.py") == {"certify.py", "train.py", "aggregate.py", "prepare_data.py"}
    assert after_editing("scripts/train.py") == {"train.py"}
    assert after_editing("rsmooth/config_doc.py") == set()  # no stage imports it
    assert dict(zip(scripts, fingerprints(clone, *scripts))) == before  # the same bytes again: the same digests


def test_data_fingerprint_follows_the_bytes_of_the_files(tmp_path):
    fake_mnist(tmp_path, n_train=20, n_test=10)
    first = provenance.data_fingerprint("mnist", tmp_path)
    f = tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    os.utime(f, (0, 0))
    assert provenance.data_fingerprint("mnist", tmp_path) == first
    b = bytearray(f.read_bytes())
    b[-1] ^= 1
    f.write_bytes(bytes(b))
    assert provenance.data_fingerprint("mnist", tmp_path) != first
    npz = tmp_path / "d.npz"
    npz.write_bytes(b"one")
    one = provenance.data_fingerprint("npz", tmp_path, npz)
    npz.write_bytes(b"two")
    assert provenance.data_fingerprint("npz", tmp_path, npz) != one


@pytest.mark.slow
@pytest.mark.realdata
def test_genuine_mnist_has_the_fingerprint_of_a_download_to_come(tmp_path):
    root = shared_data_or_skip("MNIST").parent
    # absent files stand in with their published md5: downloading the genuine ones reruns nothing
    assert provenance.data_fingerprint("mnist", root) == provenance.data_fingerprint("mnist", tmp_path)


def test_environment_records_versions_isa_threads_and_an_id_that_ignores_the_cpu_model():
    env = provenance.environment("cpu", 3, rng.ENGINE)
    assert env["threads"] == 3 and env["device"] == "cpu" and env["cpu_isa"]
    import torch

    assert env["torch"] == torch.__version__
    other = dict(env, cpu_model="another model")
    assert provenance.environment_id(other) == env["env_id"]
    assert provenance.environment_id(dict(env, threads=4)) != env["env_id"]
    assert provenance.environment_id(dict(env, cpu_isa=other_isa(env))) != env["env_id"]
    assert env["noise"] == rng.ENGINE  # a change of the noise bits is another environment
    assert provenance.environment_id(dict(env, noise="Philox-4x32-10, Box-Muller in float64")) != env["env_id"]


def other_isa(env: dict) -> str:
    """An instruction set other than this machine's (whatever this machine's is)."""
    return next(isa for isa in ("AVX512", "AVX2", "DEFAULT") if isa != env["cpu_isa"])


def test_tables_from_before_the_environment_record_count_as_unrecorded():
    old = pd.DataFrame([{"alpha": 0.0, "seed": 0}])
    new = pd.DataFrame([provenance.environment("cpu", 1, rng.ENGINE)])
    t = provenance.environment_table(pd.concat([old, new]).assign(role="train"))
    assert sorted(t["env_id"]) == sorted(["unrecorded", new["env_id"].item()])


def test_environment_table_counts_jobs_per_environment():
    a = provenance.environment("cpu", 1, rng.ENGINE)
    b = dict(a, cpu_isa=other_isa(a))
    b["env_id"] = provenance.environment_id(b)
    jobs = pd.DataFrame([a, a, b]).assign(role="certify")
    t = provenance.environment_table(jobs, pd.DataFrame([a]).assign(role="train"))
    assert sorted(zip(t["role"], t["env_id"], t["jobs"])) == sorted(
        [("certify", a["env_id"], 2), ("certify", b["env_id"], 1), ("train", a["env_id"], 1)])


# --- the pipeline: what reruns after which change ----------------------------------------------

@pytest.fixture
def clone(tiny_run, tmp_path):
    """A copy of the workflow (as a fresh clone has it) that the tests may edit freely."""
    return copy_workflow(tmp_path / "clone")


def plan(workdir: Path, clone: Path, *args: str) -> dict:
    r = snakemake(workdir, "-n", "--quiet", "rules", *args, snakefile=clone / "Snakefile")
    return planned_jobs(workdir, output=r.stdout + r.stderr)




@pytest.mark.slow
@pytest.mark.e2e
def test_a_new_clone_and_a_touch_of_every_source_plan_nothing(tiny_run, clone):
    assert plan(tiny_run, clone) == {}
    for f in clone.rglob("*"):
        if f.is_file():
            os.utime(f)
    assert plan(tiny_run, clone) == {}


@pytest.mark.slow
@pytest.mark.e2e
def test_editing_the_smoothing_math_plans_certification_and_what_follows(tiny_run, clone):
    core = clone / "rsmooth" / "core.py"
    original = core.read_bytes()
    core.write_bytes(original + b"\n\ndef _appended():\n    return None\n")
    assert plan(tiny_run, clone) == {"certify": 9, "aggregate": 1, "claims": 1, "risk_curves": 1, "heatmap": 1, "alpha_star_figure": 1, "certified_figure": 1, "compare": 1, "claims_figure": 1, "paper_comparison_figure": 1, "all": 1}
    r = snakemake(tiny_run, "--list-changes", "code", snakefile=clone / "Snakefile")
    changed = {Path(line).name for line in r.stdout.split()}
    assert {f"alpha{a}_beta{b}_seed0.csv" for a in ("0", "0.25", "0.5") for b in ("0", "0.25", "0.5")} <= changed
    assert not any(name.endswith(".pt") for name in changed)  # training does not use core.py
    core.write_bytes(original)  # restoring the content restores the plan
    assert plan(tiny_run, clone) == {}


@pytest.mark.slow
@pytest.mark.e2e
def test_editing_the_training_code_plans_training_and_everything_downstream(tiny_run, clone):
    f = clone / "rsmooth" / "training.py"
    f.write_text(f.read_text() + "\n# an edit\n")
    assert plan(tiny_run, clone) == {"train": 3, "certify": 9, "aggregate": 1, "claims": 1, "risk_curves": 1, "heatmap": 1, "alpha_star_figure": 1, "certified_figure": 1,
                                     "compare": 1, "claims_figure": 1, "paper_comparison_figure": 1, "all": 1}


@pytest.mark.slow
@pytest.mark.e2e
def test_replacing_a_raw_data_file_plans_data_preparation_and_everything_after(tiny_run):
    f = tiny_run / "data" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    original = f.read_bytes()
    try:
        f.write_bytes(original[:-1] + bytes([(original[-1] + 1) % 10]))
        assert planned_jobs(tiny_run) == {"prepare_data": 1, "train": 3, "certify": 9,
                                          "aggregate": 1, "claims": 1, "risk_curves": 1, "heatmap": 1, "alpha_star_figure": 1, "certified_figure": 1, "compare": 1, "claims_figure": 1, "paper_comparison_figure": 1, "all": 1}
    finally:
        f.write_bytes(original)
    assert planned_jobs(tiny_run) == {}


@pytest.mark.slow
@pytest.mark.e2e
def test_execution_settings_and_coerced_values_from_the_command_line_rerun_nothing(tiny_run):
    for extra in (["seeds=[0]"], ["threads_per_job=1"], ["data_root=data"]):
        r = snakemake(tiny_run, "-n", "--quiet", "rules", "--config", *extra)
        assert planned_jobs(tiny_run, output=r.stdout + r.stderr) == {}, extra
    r = snakemake(tiny_run, "-n", "--quiet", "rules", "--cores", "1")
    assert planned_jobs(tiny_run, output=r.stdout + r.stderr) == {}


@pytest.mark.slow
@pytest.mark.e2e
def test_every_model_and_table_records_its_environment(tiny_run):
    res = tiny_run / "results" / "mnist"
    envs = pd.read_csv(res / "environments.csv")
    assert set(envs["role"]) == {"train", "certify"}
    assert envs.groupby("role")["jobs"].sum().to_dict() == {"train": 3, "certify": 9}
    assert (envs["threads"] == config.defaults()["threads_per_job"]).all()  # whatever --cores was
    risk = pd.read_csv(res / "risk.csv")
    assert risk["train_env"].nunique() == 1 and risk["certify_env"].nunique() == 1
    sources = pd.read_csv(res / "data.sources.csv")
    assert sorted(Path(f).name for f in sources["file"]) == sorted(datafiles.MNIST_RAW_MD5)
    assert all(len(m) == 32 for m in sources["md5"])


@pytest.mark.slow
def test_the_thread_count_and_not_the_cpus_decides_the_bits(tmp_path):
    """The same job on 1 CPU and on every CPU writes the same bytes when --threads is the same."""
    if not shutil.which("taskset") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs taskset and two CPUs")
    fake_mnist(tmp_path / "raw", n_train=120, n_test=10)
    run_script("prepare_data.py", "--source", "mnist", "--root", tmp_path / "raw", "--out", tmp_path / "d.npz")
    outs = []
    for tag, prefix in (("one", ["taskset", "-c", "0"]), ("all", [])):
        out = tmp_path / f"{tag}.pt"
        subprocess.run([*prefix, sys.executable, str(REPO / "scripts" / "train.py"), *rule_args("train.py"), "--data",
                        str(tmp_path / "d.npz"), "--alpha", "0.3", "--epochs", "1", "--copies", "2",
                        "--batch-size", "16", "--threads", "2", "--out", str(out), "--metrics",
                        str(tmp_path / f"{tag}.csv")], check=True, capture_output=True)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert pd.read_csv(tmp_path / "one.csv")["threads"].item() == 2


@pytest.mark.slow
@pytest.mark.e2e
def test_paths_with_spaces_and_non_ascii_characters_work_end_to_end(tmp_path):
    wd = tmp_path / "work dir é"
    wd.mkdir()
    fake_mnist(wd / "da ta ü", n_train=120, n_test=12)
    cfg = tiny_config(mnist=tiny_mnist(alphas=[0, 0.5], betas=[0, 0.5],
                                       certify={"n_test": 12, "n_votes": 10, "n_cert": 10}))
    cfg.update(results="res ults ü", data_root="da ta ü")
    snakemake(wd, config=cfg)
    res = wd / "res ults ü" / "mnist"
    assert len(pd.read_csv(res / "risk.csv")) == 4
    assert (res / "figures" / "risk_curves.png").exists()
    assert sorted(p.name for p in wd.iterdir()) == [".snakemake", "config.yaml", "da ta ü", "res ults ü"]
    assert planned_jobs(wd) == {}


@pytest.mark.slow
@pytest.mark.e2e
def test_editing_the_analysis_reruns_tables_and_figures_but_no_certification(tiny_run, clone):
    f = clone / "rsmooth" / "analysis.py"
    f.write_text(f.read_text() + "\n# an edit\n")
    assert plan(tiny_run, clone) == {"aggregate": 1, "claims": 1, "risk_curves": 1, "heatmap": 1, "alpha_star_figure": 1, "certified_figure": 1, "compare": 1, "claims_figure": 1, "paper_comparison_figure": 1, "all": 1}
