import os
from pathlib import Path

import pytest

from fakedata import fake_mnist
from pipeline import snakemake, tiny_config, tiny_mnist

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RSMOOTH_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_data_or_skip(*parts: str) -> Path:
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data not available: {p} is absent")
    return p


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The whole DAG, run once on a tiny generated MNIST; tests read it (and restore any edit)."""
    wd = tmp_path_factory.mktemp("e2e")
    fake_mnist(wd / "data", n_train=300, n_test=60)
    snakemake(wd, config=tiny_config(mnist=tiny_mnist()))
    return wd
