"""The README's gallery, rebuilt from finished runs: every picture is a figure the pipeline drew.

    python -m rsmooth.gallery --fidelity RUN/results --default RUN/results --out docs/gallery

copies the figures listed in :data:`PICTURES` from the results folders of a run of
``config/fidelity.yaml`` and of the default preset (``config.yaml``) into ``--out`` under the
names the README shows, and refuses, naming the file, when one is missing (a run that did not
finish, or a preset without that figure). Run the pipeline first (both presets, the current
code), so that the pictures are what today's code draws; the README says which commit.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

# gallery file name: (run, the figure's path under that run's results folder)
PICTURES = {
    "mnist_risk_curves_fidelity.png": ("fidelity", "mnist/figures/risk_curves.png"),
    "mnist_paper_comparison_fidelity.png": ("fidelity", "mnist/figures/paper_comparison.png"),
    "cifar10_risk_curves_fidelity.png": ("fidelity", "cifar10/figures/risk_curves.png"),
    "cifar10_paper_comparison_fidelity.png": ("fidelity", "cifar10/figures/paper_comparison.png"),
    "mnist_heatmap_fidelity.png": ("fidelity", "mnist/figures/heatmap.png"),
    "mnist_claims_fidelity.png": ("fidelity", "mnist/figures/claims.png"),
    "mnist_certified_default.png": ("default", "mnist/figures/certified.png"),
    "synthetic_figure4.png": ("default", "synthetic/figures/figure4.png"),
}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fidelity", type=Path, required=True, help="results folder of a config/fidelity.yaml run")
    p.add_argument("--default", type=Path, required=True, help="results folder of a default run")
    p.add_argument("--out", type=Path, default=Path("docs/gallery"), help="the gallery folder")
    a = p.parse_args(argv)
    runs = {"fidelity": a.fidelity, "default": a.default}
    sources = {name: runs[run] / path for name, (run, path) in PICTURES.items()}
    missing = [str(s) for s in sources.values() if not s.is_file()]
    if missing:
        raise SystemExit(f"no such figure: {missing[0]} (run the {len(missing)} missing figure(s)' preset first)")
    a.out.mkdir(parents=True, exist_ok=True)
    for name, src in sources.items():
        tmp = a.out / f".{name}.tmp"
        shutil.copyfile(src, tmp)
        tmp.replace(a.out / name)  # atomic: a picture is old or new, never half-written
    print(f"{len(sources)} pictures from {a.fidelity} and {a.default} in {a.out}")


if __name__ == "__main__":
    main()
