"""One home per default: the config schema. The scripts take their defaults from it
(rsmooth/defaults.py), and no script option that names a config key has a literal default."""
import ast
import importlib.util
import sys

import pytest

from conftest import REPO
from rsmooth import defaults
from rsmooth.training import TrainConfig

SCRIPTS = REPO / "scripts"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def schema_default(dest: str, section: str | None):
    """The schema's default for a script option (its dest), or KeyError."""
    top = defaults.top()
    aliases = {"threads": top["threads_per_job"], "seed": top["seed"], "device": top["device"],
               "root": top["data_root"], "rng_seed": defaults.dataset("analysis")["bootstrap_seed"]}
    if dest in aliases:
        return aliases[dest]
    for table in (defaults.dataset(section) if section else {}, defaults.dataset()):
        if dest in table:
            return table[dest]
    raise KeyError(dest)


@pytest.mark.parametrize("script, section", [("train", "train"), ("certify", "certify"),
                                             ("aggregate", "analysis"), ("claims", "analysis"),
                                             ("compare", "analysis"), ("prepare_data", None)])
def test_every_option_that_names_a_config_key_defaults_to_the_schema(script, section):
    parser = load(script).parser()
    checked = []
    for action in parser._actions:
        try:
            expected = schema_default(action.dest, section)
        except KeyError:
            continue
        assert action.default == expected, (script, action.dest, action.default, expected)
        checked.append(action.dest)
    assert len(checked) >= {"train": 15, "certify": 10, "aggregate": 1, "claims": 6, "compare": 5,
                            "prepare_data": 1}[script], checked


def _schema_keys() -> set[str]:
    keys: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.get("properties", {}).items():
                keys.add(k)
                walk(v)
            for v in node.values():
                if isinstance(v, dict):
                    walk(v)

    walk(defaults.schema())
    return keys | {"threads", "seed", "root", "rng_seed"}


def test_no_script_option_has_a_literal_default_for_a_config_key():
    keys = _schema_keys()
    offenders = []
    for path in sorted(SCRIPTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"):
                continue
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and str(a.value).startswith("--")]
            dest = names[0][2:].replace("-", "_") if names else None
            default = next((k.value for k in node.keywords if k.arg == "default"), None)
            empty = (isinstance(default, ast.Constant) and default.value in (None, "")) or (
                isinstance(default, ast.List) and not default.elts)  # "none given", not a value
            if dest in keys and isinstance(default, (ast.Constant, ast.List)) and not empty:
                offenders.append(f"{path.name}: --{dest} default {ast.unparse(default)}")
    assert offenders == []


def test_the_training_recipe_defaults_are_the_schemas():
    recipe = TrainConfig()
    assert {k: getattr(recipe, k) for k in defaults.dataset("train")} == defaults.dataset("train")


def test_help_shows_defaults_and_choices(capsys):
    for script in ("train", "certify"):
        parser = load(script).parser()
        text = parser.format_help()
        assert "{cnn,resnet20,resnet32,resnet44,resnet56,resnet110,fastnet}" in text
        assert "(default: cnn)" in text and f"(default: {defaults.top()['threads_per_job']})" in text
    assert "(default: 100)" in load("certify").parser().format_help()  # n_votes
    sys.modules.pop("script_train", None)


def test_library_keyword_defaults_equal_the_schemas():
    """What remains outside the scripts: the package's keyword defaults for config options
    (convenient for interactive use) must be the schema's; the pipeline always passes them."""
    import inspect

    from rsmooth import claims, curves, figures

    an = defaults.dataset("analysis")
    fig = defaults.schema()["$defs"]["dataset"]["properties"]["figures"]["properties"]
    schema = {"window": an["savgol_window"], "order": an["savgol_order"], "level": an["level"],
              "n_boot": an["n_boot"], "rng_seed": an["bootstrap_seed"],
              "log_y": fig["risk_curves"]["properties"]["log_y"]["default"],
              "annotate": fig["heatmap"]["properties"]["annotate"]["default"],
              "cmap": fig["heatmap"]["properties"]["cmap"]["default"],
              "max_radius": fig["certified"]["properties"]["max_radius"]["default"]}
    functions = [curves.fit_curves, curves.fit_curve, curves.best_indices, curves.best_alpha,
                 claims.analyze, claims.decide_claims, figures.risk_curves, figures.risk_heatmap,
                 figures.certified_accuracy]
    checked = 0
    for f in functions:
        for name, p in inspect.signature(f).parameters.items():
            if name in schema and p.default is not inspect.Parameter.empty:
                assert p.default == schema[name], (f.__qualname__, name, p.default, schema[name])
                checked += 1
    assert checked >= 16, checked
