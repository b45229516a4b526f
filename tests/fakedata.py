"""Small generated datasets in the formats the pipeline reads, for tests that must always run.

The images are learnable: each class has its own bright block, plus noise, so a few training
steps give a classifier well above chance.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def class_images(n: int, side: int, channels: int, classes: int, seed: int):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.integers(0, 60, (n, side, side, channels)).astype(np.uint8)
    cells = int(np.ceil(np.sqrt(classes)))
    block = side // cells
    for c in range(classes):
        r, q = divmod(c, cells)
        x[y == c, r * block:(r + 1) * block, q * block:(q + 1) * block, :] = 220
    return x, y.astype(np.int64)


def write_idx(path: Path, arr: np.ndarray) -> None:
    dims = arr.shape
    magic = 0x0803 if arr.ndim == 3 else 0x0801
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims))
        f.write(arr.astype(np.uint8).tobytes())


def fake_mnist(root: Path, n_train: int = 300, n_test: int = 60, seed: int = 0) -> Path:
    """Write MNIST in torchvision's raw layout under ``root/MNIST/raw``; return ``root``."""
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for split, n, s in (("train", n_train, seed), ("t10k", n_test, seed + 1)):
        x, y = class_images(n, 28, 1, 10, s)
        write_idx(raw / f"{split}-images-idx3-ubyte", x[..., 0])
        write_idx(raw / f"{split}-labels-idx1-ubyte", y)
    return Path(root)


def fake_npz(path: Path, n_train: int = 300, n_test: int = 60, side: int = 32,
             channels: int = 3, classes: int = 10, seed: int = 0) -> Path:
    """Write an .npz dataset (x uint8 [N, H, W, C], y int64) at ``path``."""
    xtr, ytr = class_images(n_train, side, channels, classes, seed)
    xte, yte = class_images(n_test, side, channels, classes, seed + 1)
    if channels == 1:
        xtr, xte = xtr[..., 0], xte[..., 0]
    np.savez(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    return Path(path)
