"""The options each stage's script gets from the config: one builder per script, shared by the
rules (rules/*.smk turn them into arguments with :func:`rsmooth.cli.as_args`) and the tests
(tests/pipeline.py), so that a test runs a script the way a job does.

Every function takes one dataset's validated config (``config["datasets"][NAME]``, defaults
filled in) and returns ``{option: value}`` in the script's option names (``n_votes`` for
``--n-votes``). Only the options that come from the config: a job's wildcards (alpha, beta,
seed), paths and the environment (device, threads) are the rule's. Pure Python: the Snakefile
imports this module.
"""
from __future__ import annotations

from .seeding import derive_seed


def prepare_data(ds: dict, data_root: str) -> dict:
    """scripts/prepare_data.py: where the images come from."""
    return {"source": ds["source"], "root": data_root, "path": ds["path"],
            "num_classes": ds["num_classes"], "classes": ds["classes"]}


def train(ds: dict, recipe: str) -> dict:
    """scripts/train.py: the recipe ``base`` (h_0) or ``noisy`` (every h_alpha)."""
    return {**ds["train"][recipe], "common_noise": ds["train"]["common_noise"]}


def certify(ds: dict, radius: bool) -> dict:
    """scripts/certify.py: the vote and, for a radius pair (``radius``), the n_cert draws."""
    c = {k: v for k, v in ds["certify"].items() if k != "radius_pairs"}
    return c if radius else {**c, "n_cert": 0}


def test_images(ds: dict) -> str:
    """Which test images the certification tables cover: all (n_test 0) or certify.sample."""
    return ds["certify"]["sample"] if ds["certify"]["n_test"] else "all"


def aggregate(ds: dict) -> dict:
    """scripts/aggregate.py: the radii of the certified-accuracy columns, the intervals' level,
    the test images."""
    an = ds["analysis"]
    return {"radii": an["radii"], "level": an["level"], "sample": test_images(ds)}


def claims(ds: dict, name: str) -> dict:
    """scripts/claims.py: the analysis settings; the bootstrap's seed is derived from
    analysis.bootstrap_seed and the dataset's ``name``, so datasets get different draws."""
    an = ds["analysis"]
    delta = {"contrast_delta": an["contrast_delta"]} if an["contrast_delta"] else {"contrast": False}
    return {"dataset": name, "savgol_window": an["savgol_window"], "savgol_order": an["savgol_order"],
            **delta, "n_boot": an["n_boot"], "level": an["level"],
            "rng_seed": derive_seed(an["bootstrap_seed"], "claims", name)}


def compare(ds: dict, name: str) -> dict:
    """scripts/compare.py: the claims' settings (the replay uses them) and the tolerance of the
    fidelity verdicts."""
    return {**claims(ds, name), "fidelity_ratio": ds["analysis"]["fidelity_ratio"]}
