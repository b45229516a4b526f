"""Config validation against ``schemas/config.schema.yaml``, with errors that name the key.

``validate_config`` refuses a bad config before any job runs (wrong types, unknown keys, NaN,
negative noise, empty or duplicated grids, ...), fills in the schema's defaults (with
``snakemake.utils.validate``, its one schema validation: the schema is their one home) and
returns the completed config.
``grid`` expands a grid spec into the sorted noise levels; ``defaults`` is the completed
default of one dataset, for code that runs the package without a config (benchmarks, tests).
"""
from __future__ import annotations

import copy
import math
import os
import string
from pathlib import Path

import jsonschema
import numpy as np
import yaml

from .sizing import NOMINAL_SIZE

TEST_IMAGES = {source: sizes[1] for source, sizes in NOMINAL_SIZE.items()}  # known before any data
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A config value that the pipeline refuses; the message names the key."""


def load_schema() -> dict:
    """The config schema, read afresh (validation never shares its dict)."""
    return yaml.safe_load(SCHEMA_PATH.read_text())


def resolve(node: dict, root: dict) -> dict:
    """A schema node with its ``$ref`` (to ``#/$defs/NAME``) resolved: the one resolver."""
    if "$ref" in node:
        return {**root["$defs"][node["$ref"].split("/")[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def key_name(path) -> str:
    """``['datasets', 'mnist', 'betas', 0]`` -> ``datasets.mnist.betas[0]``."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _walk_numbers(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk_numbers(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_numbers(v, path + (i,))
    elif isinstance(value, float):
        yield path, value


def _coerce(value, node: dict, root: dict):
    """Turn the strings that ``snakemake --config key=value`` delivers (parsed with YAML's base
    loader: ``seeds=[0,1]`` arrives as ``['0', '1']``, ``enabled=false`` as ``'false'``) into
    the types the schema asks for, by reading them again as YAML where the schema wants no
    string. What does not convert stays as it is, for validation to refuse with the key."""
    node = resolve(node, root)
    if "oneOf" in node:  # a grid or radius_pairs: along the branch of the value's shape
        if isinstance(value, str) and value[:1] in "[{":
            value = _yaml(value)
        want = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else None
        branch = next((b for b in map(lambda b: resolve(b, root), node["oneOf"]) if b.get("type") == want), None)
        return value if branch is None else _coerce(value, branch, root)
    types = node.get("type", [])
    if isinstance(value, str) and "string" not in types and "enum" not in node and types:
        v = _yaml(value)
        if isinstance(v, str) and "number" in types:  # YAML 1.1 reads 1e-3 as a string
            try:
                v = float(v)
            except ValueError:
                pass
        value = v
    if isinstance(value, list) and "items" in node:
        return [_coerce(v, node["items"], root) for v in value]
    if isinstance(value, dict):
        props, extra = node.get("properties", {}), node.get("additionalProperties")
        return {k: _coerce(v, props[k], root) if k in props
                else _coerce(v, extra, root) if isinstance(extra, dict) else v for k, v in value.items()}
    return value


def _yaml(text: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def min_certifying_n(failure_prob: float) -> int:
    """The smallest number n of certification draws that can ever certify at ``failure_prob``:
    with all n draws for the vote, the one-sided Clopper-Pearson bound is failure_prob^(1/n),
    and a radius needs it above 1/2."""
    n = max(1, math.ceil(math.log(failure_prob) / math.log(0.5)))
    while failure_prob ** (1 / n) <= 0.5:
        n += 1
    return n


def _schema_errors(config: dict, schema: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    msgs = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        if err.validator == "additionalProperties" and err.validator_value is False:
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            known = ", ".join(sorted(err.schema.get("properties", {})))
            for k in extra:
                msgs.append(f"config key {key_name(list(err.absolute_path) + [k])!s}: unknown key "
                            f"(a typo?); known keys here: {known}")
            continue
        if err.validator == "oneOf" and err.context:
            # A grid: report the reasons from the alternative that matches the value's type
            # (branch 0 is the list form, branch 1 the {start, stop, step} form).
            branch = 1 if isinstance(err.instance, dict) else 0
            subs = [e for e in err.context if e.relative_schema_path[0] == branch] or err.context
            for sub in subs:
                msgs.append(f"config key {key_name(sub.absolute_path)}: {sub.message} "
                            "(a grid is a list of noise levels or {start, stop, step})")
            continue
        hint = (f" ({err.schema['description']})"
                if err.validator in ("pattern", "anyOf") and "description" in err.schema else "")
        msgs.append(f"config key {key_name(err.absolute_path)}: {err.message}{hint}")
    return msgs


def grid(spec) -> list[float]:
    """Expand a grid spec (a list, or an inclusive ``{start, stop, step}``) to sorted floats,
    rounded to 10 decimals so that 0.1 * 3 is 0.3."""
    if isinstance(spec, dict):
        n = int(math.floor((spec["stop"] - spec["start"]) / spec["step"] + 1e-9)) + 1
        values = [spec["start"] + i * spec["step"] for i in range(max(n, 0))]
    else:
        values = list(spec)
    return sorted(round(float(v), 10) for v in values)


def fmt(x: float) -> str:
    """A noise level as it appears in file names: ``0.1``, ``0``, ``0.25`` (no exponent)."""
    return np.format_float_positional(round(float(x), 10), trim="-")


def _semantic_errors(config: dict) -> list[str]:
    msgs = []
    for path, v in _walk_numbers(config):
        if not math.isfinite(v):
            msgs.append(f"config key {key_name(path)}: {v} is not a finite number")
    if msgs:
        return msgs
    for name, ds in config.get("datasets", {}).items():
        msgs += _grid_errors(ds, f"datasets.{name}")
        if ds["source"] == "npz" and not ds.get("path"):
            msgs.append(f"config key datasets.{name}.path: source npz needs the path of the .npz file")
        alphas, betas = grid(ds["alphas"]), grid(ds["betas"])
        pairs = ds["certify"]["radius_pairs"]
        for i, pair in enumerate(pairs if isinstance(pairs, list) else []):
            a, b = round(float(pair[0]), 10), round(float(pair[1]), 10)
            if a not in alphas or b not in betas:
                msgs.append(f"config key datasets.{name}.certify.radius_pairs[{i}]: "
                            f"{pair} is not on the alpha x beta grid")
        cert = ds["certify"]
        size = TEST_IMAGES.get(ds["source"]) if not ds.get("classes") else None
        if size and cert["n_test"] > size:
            msgs.append(f"config key datasets.{name}.certify.n_test: {cert['n_test']} exceeds the "
                        f"{size} test images of {ds['source']} (0 = all)")
        if cert["n_test"] == 1:
            msgs.append(f"config key datasets.{name}.certify.n_test: 1 image cannot be split into "
                        "the two halves that choose alpha* and measure its gap; use 0 (all) or >= 2")
        if 0 < cert["n_cert"] < min_certifying_n(cert["failure_prob"]):
            n, fp = cert["n_cert"], cert["failure_prob"]
            msgs.append(f"config key datasets.{name}.certify.n_cert: {n} draws can never certify "
                        f"at failure_prob {fp:g} (even {n} of {n} votes give a lower bound "
                        f"{fp ** (1 / n):.3f} <= 1/2); the smallest n that can is "
                        f"{min_certifying_n(fp)} (0 turns radii off)")
        msgs += _models_errors(ds, f"datasets.{name}")
        an = ds.get("analysis", {})
        if an.get("savgol_order", 0) >= an.get("savgol_window", 1) > 1:
            msgs.append(f"config key datasets.{name}.analysis.savgol_order: "
                        f"{an['savgol_order']} must be below savgol_window {an['savgol_window']}")
    syn = config.get("synthetic", {})
    for part in ("figure4", "heatmap"):
        if part in syn:
            msgs += _grid_errors(syn[part], f"synthetic.{part}")
    return msgs


def _grid_errors(section: dict, prefix: str) -> list[str]:
    msgs = []
    for axis in ("alphas", "betas"):
        spec = section.get(axis)
        if not isinstance(spec, dict):
            continue
        key = f"{prefix}.{axis}"
        if spec["stop"] < spec["start"]:
            msgs.append(f"config key {key}: stop {spec['stop']} is below start {spec['start']}")
    for axis in ("alphas", "betas"):
        if axis in section and not msgs:
            values = grid(section[axis])
            dup = sorted({fmt(v) for v in values if values.count(v) > 1})
            if dup:
                msgs.append(f"config key {prefix}.{axis}: duplicated noise levels {dup}")
    return msgs


def _models_errors(ds: dict, prefix: str) -> list[str]:
    msgs = []
    if ds.get("models"):
        try:
            fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(ds["models"])
                      if f is not None]
        except ValueError as e:
            fields = [(f"a bad brace ({e})", "", None)]
        bad = [f"{{{f}}}" for f, spec, conv in fields if f not in ("alpha", "seed") or spec or conv]
        if bad or "alpha" not in [f for f, _, _ in fields]:
            msgs.append(f"config key {prefix}.models: {ds['models']!r} must name each checkpoint by "
                        f"{{alpha}} (and {{seed}}), nothing else" + (f"; found {', '.join(bad)}" if bad else ""))
    norm = ds.get("normalize")
    if norm and len(norm["mean"]) != len(norm["std"]):
        msgs.append(f"config key {prefix}.normalize: {len(norm['mean'])} means but {len(norm['std'])} "
                    "stds; give one of each per channel")
    return msgs


def given_models(name: str, ds: dict, seeds) -> dict[tuple[str, str], str]:
    """{(alpha, seed): path} of a dataset's checkpoints of your own (``models:``, a pattern with
    ``{alpha}`` and ``{seed}`` filled in with their file-name strings), {} without them.
    Relative paths start in the working directory. The first missing file of the grid is a
    ConfigError that names it."""
    if not ds.get("models"):
        return {}
    out = {}
    for s in seeds:
        for a in (fmt(v) for v in grid(ds["alphas"])):
            path = ds["models"].format(alpha=a, seed=s)
            if not os.path.isfile(path):
                raise ConfigError(f"config key datasets.{name}.models: no checkpoint {path} for alpha {a}, "
                                  f"seed {s} (relative paths start in {os.getcwd()})")
            out[(a, str(s))] = path
    return out


def radius_pairs(ds: dict) -> list[tuple[str, str]]:
    """The (alpha, beta) pairs, as file-name strings, whose jobs draw certification radii."""
    if ds["certify"]["n_cert"] == 0:
        return []
    alphas, betas = [fmt(a) for a in grid(ds["alphas"])], [fmt(b) for b in grid(ds["betas"])]
    spec = ds["certify"]["radius_pairs"]
    if spec == "all":
        return [(a, b) for a in alphas for b in betas]
    if spec == "diagonal":
        return [(b, b) for b in betas if b != "0" and b in alphas]
    return [(fmt(a), fmt(b)) for a, b in spec]


def validate_config(config: dict) -> dict:
    """Check ``config`` against the schema and the pipeline's own rules; return it completed
    with defaults. Raises ``ConfigError`` listing every problem, each naming its key.

    One schema validation: ``snakemake.utils.validate(..., set_default=True)``, which also fills
    in the schema's defaults, then the semantic checks on the completed config. Snakemake's
    validate stops at the first error with a long message of its own, so only when it fails
    does one jsonschema pass over the config as given list every problem in one line each."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    schema = load_schema()
    config = _coerce(copy.deepcopy(dict(config)), schema, schema)
    given = copy.deepcopy(config)  # validate fills in defaults as it goes, even when it fails
    try:
        validate(config, str(SCHEMA_PATH), set_default=True)
    except WorkflowError as e:
        msgs = _schema_errors(given, schema) or [_first_error(e)]
    else:
        config = copy.deepcopy(config)  # defaults filled in share their objects: not any more
        msgs = _semantic_errors(config)
    if msgs:
        raise ConfigError("invalid config:\n  " + "\n  ".join(msgs))
    return config


def _first_error(e: Exception) -> str:
    """One line from snakemake's long validation message ``e``, for a problem that the config
    as given does not show (none is known: the schema's defaults are valid)."""
    lines = str(e).splitlines()
    msg = next((line.split(": ", 1)[1] for line in lines if line.startswith("ValidationError: ")),
               lines[0] if lines else repr(e))
    where = next((line[len("On instance"):].rstrip(":") for line in lines if line.startswith("On instance")), "")
    return f"config key {where or '(top level)'}: {msg}"


def defaults(source: str = "mnist") -> dict:
    """The completed default config of one dataset of ``source`` (its train, certify, analysis,
    ... sections, and the top-level ``device`` and ``threads_per_job`` beside them), for code
    that runs the package without a config: benchmarks and tests."""
    top = validate_config({"datasets": {"d": {"source": source, "alphas": [0], "betas": [0]}}})
    return {**top["datasets"]["d"], "device": top["device"], "threads_per_job": top["threads_per_job"]}
