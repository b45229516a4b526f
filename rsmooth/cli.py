"""Small helpers shared by the command-line scripts: argument types that refuse bad values
with a usage message, thread setup, and a uniform way to fail with a clear error."""
from __future__ import annotations

import argparse
import errno
import math
import os
import sys
from pathlib import Path


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """--help keeps the script's docstring as written and shows every option's default."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, argparse.SUPPRESS) and action.option_strings:
            text += f" (default: {action.default})"
        return text.strip()


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


def unit_float(text: str) -> float:
    v = nonneg_float(text)
    if v >= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return v


def probability(text: str) -> float:
    v = float(text)
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text}")
    return v


def model_options(p: argparse.ArgumentParser) -> None:
    """The base classifier's options of training and certification: --arch (a built-in name or
    MODULE:FUNCTION; config ``arch``, checked when the model is built) and --mean/--std (config
    ``normalize``)."""
    p.add_argument("--arch", required=True, metavar="NAME|MODULE:FUNCTION",
                   help="model architecture: a built-in name (rsmooth.models.ARCHITECTURES) or a function of yours")
    p.add_argument("--mean", type=float, nargs="+", help="per-channel mean of the normalisation inside "
                   "the base classifier, after the noise (config normalize)")
    p.add_argument("--std", type=positive_float, nargs="+", help="per-channel std of that normalisation")


def as_args(options: dict, skip=()) -> list[str]:
    """A dict of options as shell-quoted command-line arguments, how the rules pass config keys
    to the scripts: {"n_votes": 100} -> ["--n-votes 100"]; booleans become --flag / --no-flag;
    a list gives several values; None and the keys in ``skip`` are left out."""
    import shlex

    out = []
    for k, v in options.items():
        if k in skip or v is None:
            continue
        name = k.replace("_", "-")
        if isinstance(v, bool):
            out.append(f"--{name}" if v else f"--no-{name}")
        elif isinstance(v, (list, tuple)):
            out.append(f"--{name} " + " ".join(shlex.quote(str(x)) for x in v))
        else:
            out.append(f"--{name} {shlex.quote(str(v))}")
    return out


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
    """Use exactly ``threads`` torch threads (0 or None: every CPU this process may run on),
    and keep freed memory for reuse (:func:`keep_freed_memory`).

    The count is not capped at the CPUs available: the number of threads changes the order of
    float reductions and so a trained model's bits, and a job must compute the same bits
    whether it got 1 core or 8. More threads than CPUs only costs speed; the log says so."""
    import torch

    keep_freed_memory()
    cpus = len(os.sched_getaffinity(0))
    n = threads or cpus
    torch.set_num_threads(n)
    if n > cpus:
        print(f"note: {n} torch threads on {cpus} CPU(s): same results, slower", file=sys.stderr)
    return n


# errno values a user can act on, with the words that say what happened
_OS_ERRORS = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
              errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
              errno.EROFS: "read-only file system", errno.ENOENT: "no such file or folder"}


def describe_os_error(e: OSError) -> str:
    """One line for a failed file operation: what happened and to which file (the final path,
    never a temporary file's name; see :func:`rsmooth.io.atomic_path`)."""
    what = _OS_ERRORS.get(e.errno, e.strerror or type(e).__name__)
    where = getattr(e, "target", None) or e.filename
    return f"cannot write {where}: {what}" if getattr(e, "target", None) else (
        f"{where}: {what}" if where else what)


def run(main) -> None:
    """Run ``main()``; turn bad input (ValueError) and a failed file operation the user can act
    on (disk full, permission denied, read-only file system...) into one clear line and exit
    status 1."""
    try:
        main()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        if e.errno not in _OS_ERRORS:
            raise
        print(f"error: {describe_os_error(e)}", file=sys.stderr)
        sys.exit(1)
