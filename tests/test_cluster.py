"""The tiny preset through profiles/slurm on a real single-node SLURM, against a local run
through profiles/local: the same bytes for every table and model.

The cluster comes from tests/cluster/start_slurm.sh (Debian's Slurm 22.05, started for this
module and stopped by pid afterwards). Without root or the Slurm packages the module skips,
unless RSMOOTH_REQUIRE_SLURM=1 (set by .ci/run), where it fails instead.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from fakedata import fake_mnist
from pipeline import REPO, snakemake, tiny_config, tiny_mnist

import yaml

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

CLUSTER = REPO / "tests" / "cluster"
# Threads pinned in both runs: the arithmetic (hence the bytes) of a job depends on them.
THREADS = ["--set-threads", "train=2", "certify=2"]
# This test cluster has no accounting database: status from squeue, no account, and a short
# first status check (the plugin's 40 s default is for busy production clusters).
SLURM_TEST_FLAGS = ["--slurm-status-command", "squeue", "--slurm-no-account",
                    "--slurm-init-seconds-before-status-checks", "1"]


def _unavailable(reason: str):
    if os.environ.get("RSMOOTH_REQUIRE_SLURM") == "1":
        pytest.fail(f"RSMOOTH_REQUIRE_SLURM=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def slurm():
    if os.geteuid() != 0:
        _unavailable("starting slurmd needs root")
    missing = [c for c in ("slurmctld", "slurmd", "sbatch", "munged") if shutil.which(c) is None]
    if missing:
        _unavailable(f"{', '.join(missing)} not installed (tests/cluster/start_slurm.sh --install)")
    # not under pytest's private (0700) tmp folder: munged runs as the munge user
    state = Path(tempfile.mkdtemp(prefix="rsmooth-slurm-"))
    started = subprocess.run(["bash", CLUSTER / "start_slurm.sh", state], capture_output=True,
                             text=True, timeout=180)
    try:
        if started.returncode != 0:
            logs = "\n".join(p.read_text()[-2000:] for p in sorted((state / "logs").glob("*.log")))
            pytest.fail(f"start_slurm.sh failed:\n{started.stderr}\n{logs}")
        yield {**os.environ, "SLURM_CONF": str(state / "slurm.conf")}
    finally:
        pids = [int(p.read_text()) for p in state.glob("*.pid") if p.read_text().strip()]
        subprocess.run(["bash", CLUSTER / "stop_slurm.sh", state], timeout=60)
        alive = [pid for pid in pids if _alive(pid)]
        if not alive:
            shutil.rmtree(state, ignore_errors=True)
        assert not alive, f"daemons still running after stop_slurm.sh: {alive}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _workdir(path: Path) -> Path:
    path.mkdir()
    fake_mnist(path / "data", n_train=300, n_test=60)
    (path / "config.yaml").write_text(yaml.safe_dump(tiny_config(mnist=tiny_mnist()), sort_keys=False))
    return path


def _outputs(workdir: Path) -> dict[str, bytes]:
    res = workdir / "results"
    files = [p for p in res.rglob("*") if p.suffix in (".csv", ".pt") and "logs" not in p.parts
             and "benchmarks" not in p.parts]
    return {str(p.relative_to(res)): p.read_bytes() for p in files}


def test_tiny_preset_on_slurm_equals_the_local_run(slurm, tmp_path):
    local = _workdir(tmp_path / "local")
    snakemake(local, "--profile", str(REPO / "profiles" / "local"), *THREADS, timeout=900)

    cluster = _workdir(tmp_path / "cluster")
    r = snakemake(cluster, "--profile", str(REPO / "profiles" / "slurm"), *SLURM_TEST_FLAGS,
                  *THREADS, cores=None, env=slurm, timeout=900)
    log = r.stdout + r.stderr

    # 3 trainings, and the 9 certifications bundled into one group job on one GPU
    submitted = [line for line in log.splitlines() if "has been submitted with SLURM jobid" in line]
    assert len(submitted) == 4, "\n".join(submitted)
    assert sum("group_certify_batch" in line for line in submitted) == 1
    shown = subprocess.run(["scontrol", "show", "job", "-o"], env=slurm, capture_output=True,
                           text=True, check=True).stdout
    jobs = [dict(f.split("=", 1) for f in line.split() if "=" in f)
            for line in shown.splitlines() if line.strip()]
    assert len(jobs) == 4, shown
    assert all(j["JobState"] == "COMPLETED" for j in jobs), shown
    assert all("gpu:1" in j.get("TresPerJob", "") for j in jobs), shown  # the profile's GPU

    ours, theirs = _outputs(cluster), _outputs(local)
    # certifications and their environment sidecars, models + metrics, the data's sources
    # record and ten tables (risk, alpha*, their across-seed versions, environments, claims,
    # the fitted curves, the certified-accuracy curves, the comparison with the paper's table and
    # its replayed claims)
    assert len(theirs) == 9 * 2 + 3 * 2 + 1 + 10
    assert sorted(ours) == sorted(theirs)
    differ = [name for name in theirs if ours[name] != theirs[name]]
    assert not differ, f"cluster and local outputs differ: {differ}"
    for fig in ("risk_curves", "heatmap", "alpha_star", "certified", "claims", "paper_comparison"):
        assert (cluster / "results" / "mnist" / "figures" / f"{fig}.png").stat().st_size > 0


def test_paper_preset_plan_bundles_certifications(tmp_path):
    """snakemake --profile profiles/slurm -n on the paper preset (no cluster needed): every
    certification sits in a group job of at most 25, 1,427 jobs in 58 submissions."""
    wd = tmp_path / "plan"
    wd.mkdir()
    (wd / "config.yaml").write_text((REPO / "config.yaml").read_text())
    r = snakemake(wd, "--profile", str(REPO / "profiles" / "slurm"), "--configfile",
                  str(REPO / "config" / "paper.yaml"), "-n", cores=None, timeout=600)
    groups, in_group = [], False
    for line in (r.stdout + r.stderr).splitlines():
        if "Group job certify_batch" in line:
            groups.append(0)
            in_group = True
        elif line.startswith("    rule ") and in_group:
            assert line.strip() == "rule certify:", line  # nothing else is bundled
            groups[-1] += 1
        elif line.startswith("rule "):
            in_group = False
            assert line != "rule certify:", "a certification outside a group"
    assert sum(groups) == 100 * 10 + 61 * 7  # MNIST and CIFAR-10 paper grids
    assert max(groups) == 25 and len(groups) == 58
