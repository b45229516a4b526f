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


def keep_freed_memory() -> bool:
    """Make glibc keep freed blocks of up to 32 MB for reuse instead of returning them to the
    system. A forward pass of 128 MNIST images allocates 11 to 19 MB activations; by default
    glibc maps each one afresh and unmaps it when freed, so every batch pays for page faults
    on zeroed pages: measured 3,200 network evaluations/s on 2 cores against 5,500/s with this
    setting. Returns False (and changes nothing) where the C library has no ``mallopt``."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 * 1024 * 1024)
                and mallopt(m_trim_threshold, 512 * 1024 * 1024))


def set_threads(threads: int | None) -> int:
    """Use ``threads`` torch threads, at most the CPUs this process may run on (snakemake may
    grant a job more threads than the machine has cores; oversubscribing slows torch down),
    and keep freed memory for reuse (:func:`keep_freed_memory`)."""
    import torch

    keep_freed_memory()
    cpus = len(os.sched_getaffinity(0))
    n = min(threads, cpus) if threads else cpus
    torch.set_num_threads(n)
    return n


def run(main, warm: bool = False) -> None:
    """Run ``main()``; turn a ValueError (bad input) into one clear line and exit status 1.
    With ``warm``, first offer the run to a warm worker (:func:`rsmooth.warm.delegate`: under
    Snakemake the job runs in a process that imported torch already); ``main`` must import
    torch itself, not the script's top level."""
    if warm:
        from . import warm as warm_worker

        warm_worker.delegate()
    try:
        main()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
