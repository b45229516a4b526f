"""The conda environment files used by the rules pin the same versions as requirements.txt."""
import re
from pathlib import Path

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


def test_every_rule_names_an_env_and_a_log():
    for smk in (REPO / "rules").glob("*.smk"):
        text = smk.read_text()
        n_rules = len(re.findall(r"^rule \w+:", text, re.M))
        assert text.count("    log:") == n_rules, f"{smk.name}: a rule without log:"
        assert text.count("    conda:") == n_rules, f"{smk.name}: a rule without conda:"


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
