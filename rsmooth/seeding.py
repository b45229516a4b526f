"""Seeds derived from the config seed and a job's identity, never from global state."""
from __future__ import annotations

import hashlib


def derive_seed(seed: int, *parts: object) -> int:
    """A 63-bit seed that depends only on ``seed`` and the string forms of ``parts``.

    ``derive_seed(0, "train", "mnist", "0.25")`` is the same on every machine and every run,
    and different parts give statistically independent seeds (SHA-256 of the joined text).
    """
    text = "/".join([str(int(seed))] + [str(p) for p in parts])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1
