import os
import shutil
from pathlib import Path

import pytest

from pipeline import snakemake

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RSMOOTH_SHARED_DATA", REPO.parent / "shared" / "data"))


def best_alpha(alphas, risks, window: int = 15, order: int = 3):
    """alpha* of one curve by the pipeline's rule (rsmooth.curves.best_indices), its fitted
    risk and the method."""
    import numpy as np

    from rsmooth import curves

    k, method = curves.best_indices(alphas, risks, window, order)
    return float(np.asarray(alphas, float)[k]), float(curves.fit_curves(alphas, risks, window, order)[0][k]), method


def shared_data_or_skip(*parts: str) -> Path:
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data not available: {p} is absent")
    return p


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The whole DAG, run once on a copy of .test/ (the tiny config and generated MNIST that
    `snakemake --directory .test --cores 2` runs); tests read it (and restore any edit).
    It runs with --cores 8, the README's command (many light jobs at once in the snakemake
    process), and logs any ``ast.parse`` off its main thread to ``offmain_parse.log``
    beside the folder (tests/test_e2e.py checks that there is none)."""
    root = tmp_path_factory.mktemp("e2e")
    wd = root / "test"
    shutil.copytree(REPO / ".test", wd, ignore=shutil.ignore_patterns("results", ".snakemake"))
    snakemake(wd, cores="8", parse_log=root / "offmain_parse.log")
    return wd
