"""Cluster job sizes (profiles/slurm): the runtime a training or certification job asks for,
from the dataset's ``cluster`` block of the config. Pure arithmetic, no torch: the Snakefile
imports it."""
from __future__ import annotations

import math

# (training, test) images of each source, for sizing jobs before the data exist; an npz is
# assumed MNIST-sized. Used only where train_images or n_test is 0 (all).
NOMINAL_SIZE = {"mnist": (60000, 10000), "cifar10": (50000, 10000)}


def nominal_size(ds: dict) -> tuple[int, int]:
    return NOMINAL_SIZE.get(ds["source"], NOMINAL_SIZE["mnist"])


def minutes(ds: dict, work: float, rate: str, attempt: int = 1) -> int:
    """Minutes for a job doing ``work`` units at the cluster block's ``rate`` units/s:
    safety x (overhead_s + work / rate), times the attempt number, so that a job resubmitted
    after running out of time (the profile's retries) asks for twice, then three times, as
    long."""
    c = ds["cluster"]
    return attempt * math.ceil(c["safety"] * (c["overhead_s"] + work / c[rate]) / 60)


def train_minutes(ds: dict, base: bool, attempt: int = 1) -> int:
    """Runtime of training h_0 (``base``) or an h_alpha."""
    t = ds["train"]["base" if base else "noisy"]
    n = t["train_images"] or nominal_size(ds)[0]
    return minutes(ds, t["epochs"] * n * t["copies"], "train_samples_per_s", attempt)


def certify_minutes(ds: dict, radius: bool, attempt: int = 1) -> int:
    """Runtime of one certification job (``radius``: it also draws n_cert samples per image)."""
    c = ds["certify"]
    draws = c["n_votes"] + (c["n_cert"] if radius else 0)
    return minutes(ds, (c["n_test"] or nominal_size(ds)[1]) * draws, "evals_per_s", attempt)
