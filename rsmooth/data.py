"""Datasets: fetch once with torchvision (or read an ``.npz``), cache as one ``.npz`` of uint8
arrays that every later stage loads in milliseconds, with no per-image PIL transforms."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .io import atomic_path
from .datafiles import CIFAR10_BATCHES_MD5, CIFAR10_NPZ, MNIST_RAW_MD5  # the files each source reads

MNIST_RAW = tuple(MNIST_RAW_MD5)
CIFAR10_BATCHES = tuple(CIFAR10_BATCHES_MD5)
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


class DataError(ValueError):
    """A dataset that is missing or malformed; the message names the file and the problem."""


@dataclass
class Arrays:
    """A dataset in memory: images uint8 [N, C, H, W], labels int64 [N]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])


def _torchvision_fetch(cls, root: Path, expected: tuple[str, ...], folder: Path, name: str):
    missing = [f for f in expected if not (folder / f).exists()]
    try:
        train = cls(str(root), train=True, download=bool(missing))
        test = cls(str(root), train=False, download=False)
    except Exception as e:
        raise DataError(
            f"{name} is not under data root {root} (expected {', '.join(expected)} in {folder}) "
            f"and could not be downloaded: {type(e).__name__}: {e}. Offline, point the config "
            f"key data_root at a folder that has them.") from None
    return train, test


def fetch_mnist(root: str | Path) -> Arrays:
    """MNIST via torchvision from ``root/MNIST/raw``; downloads only if a raw file is missing."""
    from torchvision.datasets import MNIST

    root = Path(root)
    train, test = _torchvision_fetch(MNIST, root, MNIST_RAW, root / "MNIST" / "raw", "MNIST")
    return Arrays(train.data.numpy()[:, None], train.targets.numpy().astype(np.int64),
                  test.data.numpy()[:, None], test.targets.numpy().astype(np.int64), 10)


def fetch_cifar10(root: str | Path) -> Arrays:
    """CIFAR-10: torchvision's ``root/cifar-10-batches-py`` when present; else an offline copy
    at ``root/cifar10/cifar10.npz`` (the .npz source's format); else torchvision downloads it
    into ``root`` (md5-checked)."""
    from torchvision.datasets import CIFAR10

    root = Path(root)
    if not (root / "cifar-10-batches-py").exists() and (root / CIFAR10_NPZ).exists():
        return read_npz(root / CIFAR10_NPZ, num_classes=10)
    train, test = _torchvision_fetch(CIFAR10, root, CIFAR10_BATCHES,
                                     root / "cifar-10-batches-py", "CIFAR-10")
    hwc_to_chw = (0, 3, 1, 2)
    return Arrays(train.data.transpose(hwc_to_chw), np.asarray(train.targets, dtype=np.int64),
                  test.data.transpose(hwc_to_chw), np.asarray(test.targets, dtype=np.int64), 10)


def read_npz(path: str | Path, num_classes: int | None = None) -> Arrays:
    """A dataset from an ``.npz`` with x_train, y_train, x_test, y_test.

    Images are uint8 [N, H, W] (one channel) or [N, H, W, C] (channels last, as numpy and PIL
    keep them); labels are integers in [0, num_classes). ``num_classes`` defaults to
    ``max(label) + 1``. Anything else is refused with a ``DataError`` naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such dataset file")
    try:
        z = np.load(path, allow_pickle=False)
        missing = [k for k in NPZ_KEYS if k not in z.files]
        if missing:
            raise DataError(f"{path}: missing key(s) {missing}; an npz dataset needs {list(NPZ_KEYS)}")
        arr = {k: z[k] for k in NPZ_KEYS}
    except DataError:
        raise
    except Exception as e:
        raise DataError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    for split in ("train", "test"):
        x, y = arr[f"x_{split}"], arr[f"y_{split}"]
        if x.dtype != np.uint8:
            raise DataError(f"{path}: x_{split} has dtype {x.dtype}; expected uint8 pixels 0..255")
        if x.ndim not in (3, 4):
            raise DataError(f"{path}: x_{split} has rank {x.ndim} (shape {x.shape}); "
                            "expected [N, H, W] or [N, H, W, C]")
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{path}: y_{split} must be a 1-D integer array, got {y.dtype} {y.shape}")
        if len(x) != len(y):
            raise DataError(f"{path}: x_{split} has {len(x)} images but y_{split} has {len(y)} labels")
        if len(x) == 0:
            raise DataError(f"{path}: x_{split} is empty")
    if arr["x_train"].shape[1:] != arr["x_test"].shape[1:]:
        raise DataError(f"{path}: train images {arr['x_train'].shape[1:]} and test images "
                        f"{arr['x_test'].shape[1:]} have different shapes")
    labels = np.concatenate([arr["y_train"], arr["y_test"]])
    k = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.min() < 0 or labels.max() >= k:
        raise DataError(f"{path}: labels must lie in [0, {k}); found {labels.min()}..{labels.max()}")

    def chw(x):
        return x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)

    return Arrays(chw(arr["x_train"]), arr["y_train"].astype(np.int64),
                  chw(arr["x_test"]), arr["y_test"].astype(np.int64), k)


def keep_classes(a: Arrays, classes: list[int]) -> Arrays:
    """Keep only the listed classes, relabelled 0..len(classes)-1 in the listed order."""
    lut = np.full(a.num_classes, -1, dtype=np.int64)
    for new, old in enumerate(classes):
        if not 0 <= old < a.num_classes:
            raise DataError(f"class {old} does not exist (the dataset has {a.num_classes})")
        lut[old] = new
    tr, te = lut[a.y_train] >= 0, lut[a.y_test] >= 0
    return Arrays(a.x_train[tr], lut[a.y_train[tr]], a.x_test[te], lut[a.y_test[te]], len(classes))


def fetch(source: str, root: str | Path, path: str | Path | None = None,
          num_classes: int | None = None, classes: list[int] | None = None) -> Arrays:
    """The dataset named by ``source``: ``mnist``, ``cifar10`` (torchvision) or ``npz``."""
    if source == "mnist":
        a = fetch_mnist(root)
    elif source == "cifar10":
        a = fetch_cifar10(root)
    elif source == "npz":
        if path is None:
            raise DataError("source npz needs a path to the .npz file")
        a = read_npz(path, num_classes)
    else:
        raise DataError(f"unknown dataset source {source!r}; known: mnist, cifar10, npz")
    return keep_classes(a, classes) if classes else a


def save_cache(a: Arrays, path: str | Path) -> None:
    """Write the dataset cache atomically (uncompressed, so loading is a memcpy)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, x_train=a.x_train, y_train=a.y_train, x_test=a.x_test, y_test=a.y_test,
                     num_classes=np.int64(a.num_classes))


def load_cache(path: str | Path, train: bool = True) -> Arrays:
    """Read a cache written by ``save_cache`` (``train=False``: the test split only, with an
    empty training split, for certification); a clear error names a foreign or broken file."""
    try:
        z = np.load(path, allow_pickle=False)
        x_test = z["x_test"]
        if train:
            x_train, y_train = z["x_train"], z["y_train"]
        else:
            x_train, y_train = x_test[:0], z["y_test"][:0]
        a = Arrays(x_train, y_train, x_test, z["y_test"], int(z["num_classes"]))
    except Exception as e:
        raise DataError(f"{path}: not a dataset cache written by prepare_data.py "
                        f"({type(e).__name__}: {e})") from None
    if a.x_test.ndim != 4 or a.x_test.dtype != np.uint8:
        raise DataError(f"{path}: images must be uint8 [N, C, H, W], got {a.x_test.dtype} {a.x_test.shape}")
    return a


SAMPLES = ("random", "first")  # how certify.sample picks n_test of the test images


def test_sample(size: int, n_test: int, kind: str, seed: int) -> np.ndarray:
    """The indices (ascending) of the test images a run certifies: all ``size`` when ``n_test``
    is 0 or ``size``; else ``kind`` "first", the first ``n_test``, or "random", the first
    ``n_test`` of a uniformly random permutation of the test set drawn from ``seed`` (numpy's
    PCG64 seeded by ``derive_seed(seed, "test-sample", size)``).

    Guarantee: the result depends on ``(size, n_test, kind, seed)`` only, so every alpha, beta
    and noise seed of a run certifies the same images (the pairing behind the claims and the
    common random numbers); a random sample is uniform over the subsets of ``n_test`` images,
    and a larger ``n_test`` extends a smaller one (the samples are nested). MNIST's test set
    is not in random order (its first half is much easier to get wrong than its second), so
    "first" is a biased sample of it: docs/results.md.
    """
    from .seeding import derive_seed

    if kind not in SAMPLES:
        raise ValueError(f"sample must be one of {', '.join(SAMPLES)}, got {kind!r}")
    if not 0 <= n_test <= size:
        raise ValueError(f"n_test {n_test} is outside [0, {size}], the test images there are "
                         "(config key certify.n_test; 0 = all)")
    if n_test in (0, size):
        return np.arange(size)
    if kind == "first":
        return np.arange(n_test)
    order = np.random.Generator(np.random.PCG64(derive_seed(seed, "test-sample", size))).permutation(size)
    return np.sort(order[:n_test])


def to_float(x: np.ndarray) -> torch.Tensor:
    """uint8 [N, C, H, W] -> float32 in [0, 1] (what ToTensor gives), channels_last."""
    return (torch.from_numpy(x).float() / 255.0).contiguous(memory_format=torch.channels_last)
