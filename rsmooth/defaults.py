"""The default of every option, read from the config schema (schemas/config.schema.yaml), its
one home. The scripts take their argparse defaults from here, so a script run by hand does what
the default config does; under Snakemake the rules pass every option anyway.
``tests/test_defaults.py`` checks that no script option that names a config key has a default
of its own."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"


@lru_cache(maxsize=1)
def schema() -> dict:
    with open(SCHEMA_PATH) as f:
        return yaml.safe_load(f)


def _defaults(node: dict) -> dict:
    if "$ref" in node:
        node = schema()["$defs"][node["$ref"].split("/")[-1]]
    return {k: v["default"] for k, v in node.get("properties", {}).items() if "default" in v}


def top() -> dict:
    """Defaults of the top-level keys (device, threads_per_job, data_root, ...); ``seed`` is
    the first of the default seeds."""
    d = _defaults(schema())
    return {**d, "seed": d["seeds"][0]}


def dataset(section: str | None = None) -> dict:
    """Defaults of a dataset's keys (``None``: arch, ...), or of one of its sections:
    ``train`` (a training recipe), ``certify``, ``analysis``."""
    ds = schema()["$defs"]["dataset"]
    if section is None:
        return _defaults(ds)
    if section == "train":
        return _defaults(schema()["$defs"]["train"])
    return _defaults(ds["properties"][section])


def training() -> dict:
    """Defaults of a dataset's ``train`` keys beside its recipes (from_base, common_noise)."""
    return _defaults(schema()["$defs"]["dataset"]["properties"]["train"])


def _key(key: str, section: str | None) -> list[dict]:
    """The schema of a dataset key (``section=None``) or of a key of a dataset section
    (``train``, ...), with the alternatives of an ``anyOf``."""
    ds = schema()["$defs"]["dataset"]
    node = (schema()["$defs"]["train"] if section == "train" else
            ds if section is None else ds["properties"][section])["properties"][key]
    return [node, *node.get("anyOf", [])]


def choices(key: str, section: str | None = "train") -> list:
    """The allowed names (schema ``enum``) of a key."""
    return list(next(n["enum"] for n in _key(key, section) if "enum" in n))


def pattern(key: str, section: str | None = "train") -> str | None:
    """The pattern a key's value may match besides its names (``arch``: module:function)."""
    return next((n["pattern"] for n in _key(key, section) if "pattern" in n), None)
