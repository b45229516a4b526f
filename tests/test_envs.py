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
