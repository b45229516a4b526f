"""The README's gallery is rebuilt from runs' results by one command (rsmooth.gallery)."""
import pytest

from rsmooth import gallery


def _runs(tmp_path, skip=None):
    for name, (run, path) in gallery.PICTURES.items():
        f = tmp_path / run / path
        f.parent.mkdir(parents=True, exist_ok=True)
        if name != skip:
            f.write_bytes(name.encode())
    return ["--fidelity", str(tmp_path / "fidelity"), "--default", str(tmp_path / "default")]


def test_every_picture_is_copied_from_its_run_under_the_readmes_name(tmp_path):
    gallery.main(_runs(tmp_path) + ["--out", str(tmp_path / "g")])
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == sorted(gallery.PICTURES)
    assert all((tmp_path / "g" / n).read_bytes() == n.encode() for n in gallery.PICTURES)


def test_a_missing_figure_is_named_and_nothing_is_written(tmp_path):
    args = _runs(tmp_path, skip="synthetic_figure4.png") + ["--out", str(tmp_path / "g")]
    with pytest.raises(SystemExit, match=r"no such figure: .*default/synthetic/figures/figure4\.png"):
        gallery.main(args)
    assert not (tmp_path / "g").exists()


def test_the_readme_shows_every_picture_of_the_gallery():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert all(f"docs/gallery/{name}" in readme for name in gallery.PICTURES)
