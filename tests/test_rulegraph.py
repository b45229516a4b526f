"""docs/rulegraph.dot (rendered to docs/rulegraph.png and .svg with Graphviz) is what
`snakemake --rulegraph` gives for the default config: the same rules and the same edges."""
import re
import subprocess
import sys

import pytest

from conftest import REPO


def edges(dot: str) -> tuple[set, set]:
    """(rule names, (from rule, to rule) edges) of a rule graph, whatever its numbering."""
    labels = dict(re.findall(r'^\s*(\d+)\[label = "([^"]+)"', dot, re.M))
    pairs = {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dot, re.M)}
    return set(labels.values()), pairs


@pytest.mark.slow
@pytest.mark.e2e
def test_the_documented_rule_graph_is_the_workflows(tmp_path):
    (tmp_path / "config.yaml").write_text((REPO / "config.yaml").read_text())
    live = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--rulegraph"],
                          cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    rules, pairs = edges(live)
    assert {"all", "prepare_data", "train", "certify", "aggregate", "claims", "risk_curves"} <= rules
    assert edges((REPO / "docs" / "rulegraph.dot").read_text()) == (rules, pairs), (
        "docs/rulegraph.dot is stale: snakemake --rulegraph > docs/rulegraph.dot, then "
        "dot -Tpng docs/rulegraph.dot -o docs/rulegraph.png (and -Tsvg)")


def test_the_rendered_rule_graph_shows_the_documented_rules():
    import xml.etree.ElementTree as ET

    rules, _ = edges((REPO / "docs" / "rulegraph.dot").read_text())
    svg = ET.parse(REPO / "docs" / "rulegraph.svg").getroot()
    texts = {el.text for el in svg.iter() if el.tag.endswith("text") and el.text}
    assert texts == rules, "docs/rulegraph.svg is stale: dot -Tsvg docs/rulegraph.dot -o docs/rulegraph.svg (and -Tpng)"
