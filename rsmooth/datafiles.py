"""The dataset files each torchvision source reads, with the md5 sums of the genuine files:
MNIST's uncompressed IDX files that torchvision keeps under ``MNIST/raw``, CIFAR-10's
``cifar-10-batches-py`` (whose md5 sums torchvision itself checks), and the offline ``.npz``
copy of CIFAR-10.

Guarantee: plain data and the standard library only, so that :mod:`rsmooth.data` (which reads
and checks the files) and :mod:`rsmooth.provenance` (which fingerprints them while the
Snakefile is read, without torch or numpy) share one table.
"""
from __future__ import annotations

from pathlib import Path

MNIST_RAW_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
CIFAR10_BATCHES_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
CIFAR10_NPZ = Path("cifar10") / "cifar10.npz"  # under the data root: the offline copy
