"""Run the real Snakefile on generated data in a temporary folder."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


TEST_CONFIG = REPO / ".test" / "config.yaml"  # the one home of the tiny run's settings


def tiny_config(**datasets) -> dict:
    """The config of .test/ (runs the whole DAG in about a minute on 2 cores) with these
    datasets instead of its own."""
    cfg = yaml.safe_load(TEST_CONFIG.read_text())
    cfg["datasets"] = datasets
    return cfg


def tiny_mnist(**over) -> dict:
    """The tiny MNIST dataset of .test/config.yaml, with top-level keys replaced by ``over``."""
    ds = yaml.safe_load(TEST_CONFIG.read_text())["datasets"]["mnist"]
    ds.update(over)
    return ds


# Runs snakemake in this process with ast.parse wrapped: each call made off the main thread
# appends the thread's name and the call's stack to the file named by argv[1]. CPython's AST
# constructor is not thread-safe (python/cpython#106905), and Snakemake runs job threads.
PARSE_GUARD = """
import ast, sys, threading, traceback
log, parse = sys.argv.pop(1), ast.parse
def guarded(*args, **kwargs):
    if threading.current_thread() is not threading.main_thread():
        with open(log, "a") as f:
            f.write(threading.current_thread().name + "\\n" + "".join(traceback.format_stack()))
    return parse(*args, **kwargs)
ast.parse = guarded
from snakemake.cli import main
sys.argv[0] = "snakemake"
main()
"""


def snakemake(workdir: Path, *args: str, config: dict | None = None, check: bool = True,
              timeout: int = 600, cores: str | None = "2", env: dict | None = None,
              snakefile: Path = REPO / "Snakefile", parse_log: Path | None = None
              ) -> subprocess.CompletedProcess:
    """Run the real Snakefile (or a copy's) in ``workdir``, writing ``config`` there first;
    ``cores=None`` leaves the cores to a profile. With ``parse_log``, every ``ast.parse`` made
    off the main thread of the snakemake process is logged there (:data:`PARSE_GUARD`)."""
    if config is not None:
        (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    start = ["-c", PARSE_GUARD, str(parse_log)] if parse_log else ["-m", "snakemake"]
    cmd = [sys.executable, *start, "-s", str(snakefile),
           *(["--cores", cores] if cores else []), *args]
    r = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


WORKFLOW = ("Snakefile", "rules", "scripts", "rsmooth", "schemas", "report", "envs", "reference", "config.yaml")


def copy_workflow(dst: Path) -> Path:
    """A copy of the workflow as a fresh clone has it (no caches), for tests that edit it."""
    import shutil

    dst.mkdir()
    for item in WORKFLOW:
        src = REPO / item
        if src.is_dir():
            shutil.copytree(src, dst / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst / item)
    return dst


def rule_args(name: str) -> list[str]:
    """The options that a rule always passes to ``scripts/NAME`` (rsmooth/jobs.py, the rules'
    own builders), at the schema's defaults of an MNIST dataset (rsmooth.config.defaults: what a
    job of a default config gets, with a training recipe of one epoch, one copy), plus the
    job's own (seed 0, the default device and threads); options after them override them."""
    import shlex

    from rsmooth import jobs
    from rsmooth.cli import as_args
    from rsmooth.config import defaults

    d = defaults()
    job = {"arch": d["arch"], "seed": 0, "device": d["device"], "threads": d["threads_per_job"]}
    options = {
        "train.py": lambda: {**jobs.train(d, "noisy"), "epochs": 1, "copies": 1, **job},
        "certify.py": lambda: {**jobs.certify(d, radius=True), **job},
        "aggregate.py": lambda: jobs.aggregate(d),
        "claims.py": lambda: jobs.claims(d, "mnist"),
        "compare.py": lambda: jobs.compare(d, "mnist"),
        "prepare_data.py": lambda: {"root": "data"},
    }.get(name, dict)()
    return [word for arg in as_args(options) for word in shlex.split(arg)]


def recipe(**over):
    """A training recipe at the schema's defaults (``train.noisy``) with ``over`` replacing some."""
    from rsmooth.config import defaults
    from rsmooth.training import TrainConfig

    return TrainConfig(**{**defaults()["train"]["noisy"], **over})


def run_script(name: str, *args, check: bool = True, env: dict | None = None,
               cwd: Path | None = None, timeout: int = 900, full: bool = True) -> subprocess.CompletedProcess:
    """Run ``scripts/NAME ARGS`` as its own process; with ``full``, after the options a rule
    always passes (:func:`rule_args`; ARGS override them); with ``check``, fail on a non-zero
    status."""
    start = rule_args(name) if full else []
    r = subprocess.run([sys.executable, str(REPO / "scripts" / name), *start, *map(str, args)],
                       capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    if check:
        assert r.returncode == 0, r.stderr[-3000:]
    return r


def planned_jobs(workdir: Path, output: str | None = None) -> dict[str, int]:
    """{rule: count} of what a dry run would execute (empty: nothing to do); ``output``: the
    text of a dry run made already (``-n --quiet rules``), else one is made."""
    if output is None:
        r = snakemake(workdir, "-n", "--quiet", "rules")
        output = r.stdout + r.stderr
    out = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total", "job"):
            out[parts[0]] = int(parts[1])
    return out
