import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RSMOOTH_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_data_or_skip(*parts: str) -> Path:
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"real data not available: {p} is absent")
    return p
