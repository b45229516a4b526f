"""The conda environment files used by the rules pin the same versions as requirements.txt, and
every rule that runs a command has a log and a conda environment."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def pins(lines):
    out = {}
    for line in lines:
        m = re.match(r"^\s*([A-Za-z0-9_.-]+)==([^\s#]+)", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_env_files_pin_the_versions_of_requirements():
    req = pins((REPO / "requirements.txt").read_text().splitlines())
    envs = sorted((REPO / "envs").glob("*.yaml"))
    assert envs, "no conda environment files under envs/"
    for env in envs:
        spec = yaml.safe_load(env.read_text())
        pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict) and "pip" in d)
        got = pins(pip)
        assert got, f"{env} pins nothing"
        for name, version in got.items():
            assert req.get(name) == version, f"{env}: {name}=={version} but requirements.txt has {req.get(name)}"
        assert {"torch", "torchvision", "numpy", "pandas"} <= set(got), env


def lint(workdir: Path, snakefile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(snakefile), "--lint"], cwd=workdir,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.e2e
def test_every_rule_that_runs_a_command_has_a_log_and_a_conda_env(tmp_path):
    """Snakemake's linter reads the workflow as Snakemake parses it (default config) and refuses,
    among others, a rule that runs a command without a log or without a software environment;
    CI runs the same lint (.ci/run)."""
    (tmp_path / "config.yaml").write_text((REPO / "config.yaml").read_text())
    r = lint(tmp_path, REPO / "Snakefile")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # and the lint does check that: a rule without a log or an environment fails it
    (tmp_path / "Toy").write_text('rule toy:\n    output: "t.txt"\n    shell: "touch {output}"\n')
    r = lint(tmp_path, tmp_path / "Toy")
    assert r.returncode != 0 and "rule toy" in r.stdout + r.stderr and "log" in r.stdout + r.stderr


def test_requirements_install_the_project_and_pyproject_pins_nothing():
    """`pip install -r requirements.txt` installs the package too (its last requirement, `-e .`),
    and pyproject.toml names its dependencies without versions: the pins live in
    requirements.txt (and the envs) alone."""
    import tomllib

    lines = [line.strip() for line in (REPO / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert lines[-1] == "-e .", lines[-1]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["packages"] == ["rsmooth"]
    assert project["project"]["requires-python"] == ">=3.11"
    req = pins((REPO / "requirements.txt").read_text().splitlines())
    for dep in project["project"]["dependencies"]:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", dep), f"pyproject.toml pins {dep!r}: pin it in requirements.txt"
        assert dep.lower() in req, f"pyproject.toml needs {dep}, which requirements.txt does not pin"
