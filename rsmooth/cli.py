"""Small helpers shared by the command-line scripts: argument types that refuse bad values
with a usage message, thread setup, and a uniform way to fail with a clear error."""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path


def positive_int(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return v


def nonneg_int(text: str) -> int:
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
    return v


def nonneg_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return v


def positive_float(text: str) -> float:
    v = nonneg_float(text)
    if v == 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return v


def probability(text: str) -> float:
    v = float(text)
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text}")
    return v


def existing_file(text: str) -> Path:
    p = Path(text)
    if not p.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return p


def set_threads(threads: int | None) -> int:
    """Use ``threads`` torch threads, at most the CPUs this process may run on (snakemake may
    grant a job more threads than the machine has cores; oversubscribing slows torch down)."""
    import torch

    cpus = len(os.sched_getaffinity(0))
    n = min(threads, cpus) if threads else cpus
    torch.set_num_threads(n)
    return n


def run(main) -> None:
    """Run ``main()``; turn a ValueError (bad input) into one clear line and exit status 1."""
    try:
        main()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
