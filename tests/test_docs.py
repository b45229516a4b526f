"""The documentation stays true to the code: the key tables of config/README.md are the ones
generated from schemas/config.schema.yaml (``python -m rsmooth.config_doc``), the README stays a
short landing page, and every relative link of the Markdown pages points to a file that exists.
"""
import copy
import re
from pathlib import Path

import pytest
import yaml

from rsmooth import config_doc
from rsmooth.config import load_schema

REPO = Path(__file__).resolve().parents[1]
CONFIG_DOC = REPO / "config" / "README.md"
README = REPO / "README.md"
README_MAX_LINES = 200


def table_of(text: str, where: str) -> str:
    """The generated table under the marker that names ``where``."""
    m = next(b for b in config_doc.BLOCK.finditer(text) if b["where"] == where)
    return m["body"]


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

def test_the_key_tables_of_config_readme_are_generated_from_the_schema():
    text = CONFIG_DOC.read_text()
    assert config_doc.render(load_schema(), text) == text, (
        "config/README.md's key tables are stale: python -m rsmooth.config_doc")
    assert config_doc.main(["--check"]) == 0


def test_every_key_of_the_schema_has_one_row_with_its_default_and_description():
    text = CONFIG_DOC.read_text()
    for name, k in config_doc.rows(load_schema()).items():
        row = config_doc.row(name, k)
        assert text.count(f"| `{name}` |") == 1 and row in text, name
        assert k.description and f"| {k.description} |" in row, name
        cell = config_doc.default_cell(k)
        if k.default is config_doc.NO_DEFAULT:
            assert cell == ("required" if k.required else "none"), name
        else:  # YAML in backticks that reads back as the schema's default, of the same type
            stated = yaml.safe_load(cell.strip("`"))
            assert stated == k.default and type(stated) is type(k.default), name


def test_the_key_list_comes_from_the_schema_through_refs_and_free_names():
    keys = config_doc.rows(load_schema())
    for key in ("results", "datasets.NAME.certify.n_cert", "synthetic.figure4.samples",
                "datasets.NAME.train.RECIPE.epochs", "datasets.NAME.train.RECIPE.augment",
                "datasets.NAME.figures.certified.max_radius", "datasets.NAME.cluster.mem_mb",
                "datasets.NAME.certify.sample", "datasets.NAME.certify.sample_seed",
                "datasets.NAME.analysis.fidelity_ratio"):
        assert key in keys, key
    assert keys["datasets.NAME.train.base"].default == {"copies": 1}
    assert keys["datasets.NAME.source"].default is config_doc.NO_DEFAULT and keys["datasets.NAME.source"].required
    assert not any(".base." in k or ".noisy." in k for k in keys)  # the recipes' keys once, as RECIPE


def test_a_key_added_to_the_schema_gets_a_row_in_its_section_and_needs_a_description():
    schema, text = load_schema(), CONFIG_DOC.read_text()
    changed = copy.deepcopy(schema)
    analysis = changed["$defs"]["dataset"]["properties"]["analysis"]["properties"]
    analysis["a_new_key"] = {"type": "integer", "default": 7, "description": "a test"}
    changed["$defs"]["train"]["properties"]["another_key"] = {"type": "number", "default": 0.5, "description": "b | c"}
    changed["properties"]["top_key"] = {"type": "string", "default": "", "description": "d"}
    new = config_doc.render(changed, text)
    assert new != text  # so the test above fails until the page is regenerated
    assert "| `datasets.NAME.analysis.a_new_key` | `7` | a test |" in table_of(new, "datasets.NAME.analysis")
    assert "| `datasets.NAME.train.RECIPE.another_key` | `0.5` | b \\| c |" in table_of(new, "datasets.NAME.train")
    assert '| `top_key` | `""` | d |' in table_of(new, "top level")
    assert config_doc.BLOCK.split(new)[::3] == config_doc.BLOCK.split(text)[::3]  # the prose is kept
    del analysis["a_new_key"]["description"]
    with pytest.raises(ValueError, match="datasets.NAME.analysis.a_new_key: no description"):
        config_doc.render(changed, text)


def test_a_changed_default_or_a_removed_key_changes_the_tables():
    schema, text = load_schema(), CONFIG_DOC.read_text()
    changed = copy.deepcopy(schema)
    changed["properties"]["threads_per_job"]["default"] = 3
    del changed["properties"]["seeds"]
    new = config_doc.render(changed, text)
    assert "| `threads_per_job` | `3` |" in new and "| `seeds` |" in text and "| `seeds` |" not in new
    del changed["properties"]["synthetic"]
    with pytest.raises(ValueError, match="the table of 'synthetic' holds no key"):
        config_doc.render(changed, text)


def test_the_generator_rewrites_a_stale_page_and_check_fails_on_it(tmp_path):
    page = tmp_path / "README.md"
    stale = CONFIG_DOC.read_text().replace("| `seeds` | `[0]` |", "| `seeds` | `[1]` |")
    page.write_text(stale)
    assert config_doc.main(["--check", "--doc", str(page)]) == 1
    assert page.read_text() == stale
    assert config_doc.main(["--doc", str(page)]) == 0
    assert page.read_text() == CONFIG_DOC.read_text()


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
