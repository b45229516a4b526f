"""The documentation stays true to the code: every config key of the schema is described in
config/README.md with the schema's default, the README stays a short landing page, and every
relative link of the Markdown pages points to a file that exists.

The key list is built from the schema at test time (walking ``properties``, ``$ref`` and
``additionalProperties``), so a key added to the schema fails here until it has a row.
"""
import copy
import re
from pathlib import Path

import pytest
import yaml

from rsmooth.config import load_schema, resolve

REPO = Path(__file__).resolve().parents[1]
CONFIG_DOC = REPO / "config" / "README.md"
README = REPO / "README.md"
README_MAX_LINES = 200

# Placeholders of config/README.md (documented at its top): NAME stands for any key of an
# additionalProperties mapping (a dataset name); RECIPE for either training recipe, whose
# keys are written once.
NAME = "NAME"
ALIASES = {"datasets.NAME.train.base.": "datasets.NAME.train.RECIPE.",
           "datasets.NAME.train.noisy.": "datasets.NAME.train.RECIPE."}
KEY_TABLE_HEADER = ("key", "default", "meaning")
NO_DEFAULT = object()


# ------------------------------------------------------------------------------ the schema

def schema_keys(schema: dict) -> dict:
    """{dotted key path: (default or NO_DEFAULT, required?)} of every key the schema accepts.
    Object keys are followed through ``properties`` and ``$ref``; a mapping of free names
    (``additionalProperties`` with a schema) gives the placeholder NAME. Values chosen among
    alternatives (``oneOf``: a grid, radius_pairs) are leaves."""
    out = {}

    def walk(node, prefix):
        node = resolve(node, schema)
        required = set(node.get("required", []))
        for key, sub in node.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            resolved = resolve(sub, schema)
            out[path] = (resolved.get("default", NO_DEFAULT), key in required)
            walk(sub, path)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            path = f"{prefix}.{NAME}" if prefix else NAME
            out[path] = (NO_DEFAULT, False)
            walk(extra, path)

    walk(schema, "")
    return out




def doc_name(key: str) -> str:
    """The name under which config/README.md documents a schema key (placeholders applied)."""
    for prefix, alias in ALIASES.items():
        if key.startswith(prefix):
            return alias + key[len(prefix):]
    return key


# ------------------------------------------------------------------------------ the page

def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def documented_keys(text: str) -> dict:
    """{key: default cell} of every row of the tables headed ``| key | default | meaning |``.
    Rows repeating a key are reported by :func:`duplicated_rows`."""
    rows = {}
    for key, default in _key_rows(text):
        rows.setdefault(key, default)
    return rows


def duplicated_rows(text: str) -> list[str]:
    seen, dup = set(), []
    for key, _ in _key_rows(text):
        if key in seen:
            dup.append(key)
        seen.add(key)
    return dup


def _key_rows(text: str):
    in_table = False
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if tuple(c.lower() for c in cells) == KEY_TABLE_HEADER:
            in_table = True
            continue
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        m = re.fullmatch(r"`([^`]+)`", cells[0])
        assert m, f"config/README.md: a key row must start with the key in backticks: {line!r}"
        assert len(cells) >= 3, f"config/README.md: a key row needs key, default, meaning: {line!r}"
        yield m.group(1), cells[1]


def default_problem(key: str, cell: str, default, required: bool) -> str | None:
    """Why the default cell of ``key`` does not state the schema's default (None if it does)."""
    if default is NO_DEFAULT:
        want = "required" if required else "none"
        return None if cell == want else f"{key}: the schema has no default; write {want!r}, not {cell!r}"
    m = re.fullmatch(r"`([^`]*)`", cell)
    if not m:
        return f"{key}: default cell {cell!r} is not a YAML value in backticks (schema: {default!r})"
    try:
        stated = yaml.safe_load(m.group(1))
    except yaml.YAMLError as e:
        return f"{key}: default {m.group(1)!r} is not YAML ({e})"
    if stated != default or isinstance(stated, bool) != isinstance(default, bool):
        return f"{key}: config/README.md says {stated!r}, the schema says {default!r}"
    return None


def problems(schema: dict, text: str) -> list[str]:
    """Everything config/README.md gets wrong about ``schema``."""
    keys = schema_keys(schema)
    rows = documented_keys(text)
    out = [f"{k}: documented twice" for k in duplicated_rows(text)]
    by_doc_name = {}
    for key, (default, required) in keys.items():
        by_doc_name.setdefault(doc_name(key), []).append((key, default, required))
    for name, variants in sorted(by_doc_name.items()):
        if name not in rows:
            out.append(f"{name}: key of the schema without a row in config/README.md")
            continue
        for key, default, required in variants:
            p = default_problem(name, rows[name], default, required)
            if p:
                out.append(p)
    out += [f"{k}: row in config/README.md for a key the schema does not have"
            for k in sorted(set(rows) - set(by_doc_name))]
    return out


# ------------------------------------------------------------------------------ links

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_SRC = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def relative_links(md: Path) -> list[str]:
    text = md.read_text()
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # no links inside code blocks
    text = re.sub(r"`[^`\n]*`", "", text)              # nor inside code spans
    targets = LINK.findall(text) + HTML_SRC.findall(text)
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, flags=re.IGNORECASE)]


def anchors(md: Path) -> set[str]:
    """GitHub's anchors of the headings of a Markdown page: lower case, punctuation dropped,
    spaces as hyphens, repeats numbered -1, -2, ..."""
    text = re.sub(r"```.*?```", "", md.read_text(), flags=re.DOTALL)
    out, seen = set(), {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def broken_links(md: Path, root: Path = REPO) -> list[str]:
    out = []
    for target in relative_links(md):
        path, _, fragment = target.split("?", 1)[0].partition("#")
        dest = md.parent / path if path else md  # "#anchor": a heading of this page
        if not dest.exists():
            out.append(f"{md.relative_to(root)}: link to {target} (no such file)")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            out.append(f"{md.relative_to(root)}: link to {target} (no heading #{fragment} there)")
    return out


def markdown_pages() -> list[Path]:
    pages = [README, CONFIG_DOC, REPO / "CHANGELOG.md", *sorted((REPO / "docs").glob("*.md"))]
    return [p for p in pages if p.exists()]


# ------------------------------------------------------------------------------ the tests

def test_every_schema_key_is_documented_with_the_schemas_default():
    found = problems(load_schema(), CONFIG_DOC.read_text())
    assert not found, "config/README.md disagrees with schemas/config.schema.yaml:\n  " + "\n  ".join(found)


def test_the_key_list_comes_from_the_schema_through_refs_and_free_names():
    keys = schema_keys(load_schema())
    for key in ("results", "datasets.NAME.certify.n_cert", "synthetic.figure4.samples",
                "datasets.NAME.train.base.epochs", "datasets.NAME.train.noisy.augment",
                "datasets.NAME.figures.certified.max_radius", "datasets.NAME.cluster.mem_mb"):
        assert key in keys, key
    assert keys["datasets.NAME.train.base"][0] == {"copies": 1}
    assert keys["datasets.NAME.source"] == (NO_DEFAULT, True)


def test_a_key_added_to_the_schema_fails_until_it_is_documented():
    schema = load_schema()
    text = CONFIG_DOC.read_text()
    changed = copy.deepcopy(schema)
    analysis = changed["$defs"]["dataset"]["properties"]["analysis"]["properties"]
    analysis["a_key_nobody_documented"] = {"type": "integer", "default": 7}
    changed["$defs"]["train"]["properties"]["another_new_key"] = {"type": "number", "default": 0.5}
    found = problems(changed, text)
    assert "datasets.NAME.analysis.a_key_nobody_documented: key of the schema without a row in config/README.md" in found
    assert "datasets.NAME.train.RECIPE.another_new_key: key of the schema without a row in config/README.md" in found
    documented = text + ("\n| key | default | meaning |\n| --- | --- | --- |\n"
                         "| `datasets.NAME.analysis.a_key_nobody_documented` | `7` | a test |\n"
                         "| `datasets.NAME.train.RECIPE.another_new_key` | `0.5` | a test |\n")
    assert problems(changed, documented) == problems(schema, text)


def test_a_changed_default_or_a_stale_row_fails():
    schema = load_schema()
    text = CONFIG_DOC.read_text()
    changed = copy.deepcopy(schema)
    changed["properties"]["threads_per_job"]["default"] = 3
    assert any(p.startswith("threads_per_job: config/README.md says") for p in problems(changed, text))
    del changed["properties"]["seeds"]
    assert "seeds: row in config/README.md for a key the schema does not have" in problems(changed, text)


def test_readme_is_a_short_landing_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; at most {README_MAX_LINES}"


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_point_to_files_that_exist(page):
    assert not broken_links(page), "\n".join(broken_links(page))


def test_the_link_check_finds_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("x")
    page.write_text("[ok](there.md) [anchor](#x) [web](https://example.org) ![img](gone.png)\n"
                    "`[not a link](in-code.md)`\n```\n[nor](in-block.md)\n```\n<img src=\"gone2.svg\">\n")
    assert relative_links(page) == ["there.md", "#x", "gone.png", "gone2.svg"]
    assert broken_links(page, tmp_path) == ["page.md: link to #x (no heading #x there)",
                                            "page.md: link to gone.png (no such file)",
                                            "page.md: link to gone2.svg (no such file)"]
    (tmp_path / "there.md").write_text("# Risk and alpha\\*\n## Bad input\n## Bad input\n")
    assert anchors(tmp_path / "there.md") == {"risk-and-alpha", "bad-input", "bad-input-1"}
    page.write_text("[a](there.md#bad-input-1) [b](there.md#risk-and-alpha) [c](there.md#nowhere)\n")
    assert broken_links(page, tmp_path) == ["page.md: link to there.md#nowhere (no heading #nowhere there)"]


def test_the_docs_pages_exist():
    for name in ("outputs", "cluster", "performance", "reproducibility", "results", "pipeline", "statistics", "power"):
        assert (REPO / "docs" / f"{name}.md").is_file(), name
    for name in ("CHANGELOG.md", "LICENSE", "CITATION.cff", "config/README.md"):
        assert (REPO / name).is_file(), name


def test_citation_file_names_the_pipeline_and_the_paper():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert cff.get(key), key
    papers = [r for r in cff.get("references", []) if r.get("type") == "article"]
    assert papers, "CITATION.cff: no reference of type article (the paper)"
    paper = papers[0]
    assert paper["title"] == "Understanding Noise-Augmented Training for Randomized Smoothing"
    assert paper["journal"] == "Transactions on Machine Learning Research"
    assert paper["year"] == 2023
    assert [(a["given-names"], a["family-names"]) for a in paper["authors"]] == [
        ("Ambar", "Pal"), ("Jeremias", "Sulam")]
