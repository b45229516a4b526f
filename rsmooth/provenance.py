"""Provenance: which code, which data and which environment produced an output.

Three fingerprints, each a short hex digest of *content* (never of a path or a timestamp), so
that a ``touch``, a ``git checkout`` of the same content or a fresh clone changes nothing:

* :func:`code_fingerprint` -- a script and every ``rsmooth`` module it imports, followed
  transitively through the import statements of the source text. Each rule's shell command ends
  with it as a comment (rules/common.smk, ``script``), so Snakemake's code trigger reruns
  exactly the jobs whose code changed. :func:`code_fingerprints` computes the table of every
  script once, while the workflow is read: the fingerprints parse Python source
  (``ast.parse``), which CPython does not make safe in several threads at once, and Snakemake
  formats each job's command in its job threads. So parsing runs in the main thread only, and
  anywhere else it is refused.
* :func:`data_fingerprint` -- the md5 sums of the dataset files a source reads (raw MNIST,
  CIFAR-10 batches or ``.npz``). Where the files are not there yet (torchvision will download
  them), the published md5 sums stand in (:mod:`rsmooth.datafiles`, the table of files that
  :mod:`rsmooth.data` reads too), so a download of the genuine files changes nothing.
* :func:`environment` -- what decides the bits of a float computation besides the inputs:
  torch and numpy versions, the device, the CPU instruction set torch dispatches to, the number
  of threads, and the noise generator the job drew with (its caller passes
  :data:`rsmooth.rng.ENGINE`; this module does not import it, so that the code fingerprint of
  a script that makes no noise does not follow the generator's file): a change of the noise
  bits shows as another environment. :func:`environment_id` is a digest of those; identical environments give
  identical ids, and a results folder that mixes ids mixes environments.

This module imports neither torch nor numpy at the top: the Snakefile imports it on every run.
"""
from __future__ import annotations

import ast
import hashlib
import os
import platform
import sys
import threading
from pathlib import Path

from .datafiles import CIFAR10_BATCHES_MD5, CIFAR10_NPZ, MNIST_RAW_MD5

PACKAGE = Path(__file__).resolve().parent
DIGEST_LEN = 16


def _digest(parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:DIGEST_LEN]


# ------------------------------------------------------------------------------------ code

def _imported_modules(source: str, package_relative: bool) -> set[str]:
    """Names of the rsmooth modules that ``source`` imports (any depth of the syntax tree, so
    imports inside functions count)."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names
                    if a.name.startswith("rsmooth.") and a.name.count(".") >= 1}
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            relative = node.level > 0 and package_relative
            if mod == "rsmooth" or (relative and not mod):  # from rsmooth import a, b / from . import a
                out |= {a.name for a in node.names}
            elif mod.startswith("rsmooth."):
                out.add(mod.split(".")[1])
            elif relative:  # from .core import x
                out.add(mod.split(".")[0])
    return {m for m in out if (PACKAGE / f"{m}.py").is_file()}


def code_files(script: str | os.PathLike) -> list[Path]:
    """The script and every rsmooth module it imports, directly or through other modules
    (imports inside functions count).

    Runs in the main thread only (RuntimeError elsewhere): it parses Python source, and
    CPython's AST constructor is not safe in several threads at once (python/cpython#106905:
    ``SystemError: AST constructor recursion depth mismatch``)."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            f"code fingerprints parse Python source and run in the main thread only, not in "
            f"{threading.current_thread().name!r}: compute them while the workflow is read "
            f"(provenance.code_fingerprints) and look them up per job")
    script = Path(script)
    todo = _imported_modules(script.read_text(), package_relative=False)
    seen: set[str] = set()
    while todo:
        m = todo.pop()
        seen.add(m)
        todo |= _imported_modules((PACKAGE / f"{m}.py").read_text(), package_relative=True) - seen
    return [script] + [PACKAGE / f"{m}.py" for m in sorted(seen)]


def code_fingerprint(script: str | os.PathLike) -> str:
    """A digest of the content of the script and of the rsmooth modules it uses: it changes
    exactly when one of those files' bytes change (not their names' order, paths or times)."""
    return _digest(f"{f.parent.name}/{f.name}\0".encode() + f.read_bytes() for f in code_files(script))


def code_fingerprints(folder: str | os.PathLike) -> dict[str, str]:
    """``{stage: code_fingerprint}`` for every ``STAGE.py`` in ``folder``: the table that the
    rules look their fingerprints up in, computed once in the main thread."""
    return {p.stem: code_fingerprint(p) for p in sorted(Path(folder).glob("*.py"))}


# ------------------------------------------------------------------------------------ data

def md5_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def data_sources(source: str, root: str | os.PathLike, path: str | os.PathLike | None = None
                 ) -> list[tuple[Path, str | None]]:
    """The files that data preparation reads for ``source``, each with the md5 its genuine
    version has (None where unknown: an ``.npz`` of the user's). Mirrors ``rsmooth.data.fetch``:
    CIFAR-10 reads torchvision's batches when present, else the offline ``.npz`` copy."""
    root = Path(root)
    if source == "mnist":
        folder = root / "MNIST" / "raw"
        return [(folder / name, md5) for name, md5 in MNIST_RAW_MD5.items()]
    if source == "cifar10":
        folder = root / "cifar-10-batches-py"
        if not folder.exists() and (root / CIFAR10_NPZ).exists():
            return [(root / CIFAR10_NPZ, None)]
        return [(folder / name, md5) for name, md5 in CIFAR10_BATCHES_MD5.items()]
    if source == "npz":
        return [(Path(path), None)] if path else []
    raise ValueError(f"unknown dataset source {source!r}; known: mnist, cifar10, npz")


def source_records(source: str, root, path=None) -> list[dict]:
    """One record per file data preparation reads: its path, size and md5 (a present file's
    own; an absent one's published sum, marked ``present: False``; unknown ones as empty)."""
    out = []
    for f, expected in data_sources(source, root, path):
        if f.is_file():
            out.append({"file": str(f), "bytes": f.stat().st_size, "md5": md5_file(f), "present": True})
        else:
            out.append({"file": str(f), "bytes": 0, "md5": expected or "", "present": False})
    return out


def data_fingerprint(source: str, root, path=None) -> str:
    """A digest of the content of the files a source reads: it changes when a file's bytes
    change, not when it is touched, copied or moved."""
    records = source_records(source, root, path)
    return _digest([source, *(f"{Path(r['file']).name}:{r['md5']}" for r in records)])


def module_file(name: str, search=None) -> Path | None:
    """The source file of the module ``name`` (``package.module``), found as ``import`` finds it
    on ``search`` (default: ``sys.path``, then the working directory), without importing
    anything; None if there is none."""
    from importlib.machinery import PathFinder

    path, spec = list(search) if search is not None else [*sys.path, os.getcwd()], None
    parts = name.split(".")
    for i in range(len(parts)):
        spec = PathFinder.find_spec(".".join(parts[: i + 1]), path)
        if spec is None:
            return None
        path = spec.submodule_search_locations or []
    return Path(spec.origin) if spec.has_location and spec.origin else None


def arch_fingerprint(arch: str) -> str:
    """'' for a built-in architecture; for one of your own (``package.module:function``), a
    digest of its module's source file (only that file), so that editing it reruns the jobs
    that build the model. A ValueError says where the module was looked for."""
    if ":" not in arch:
        return ""
    module = arch.split(":", 1)[0]
    f = module_file(module)
    if f is None:
        raise ValueError(f"no module {module} on PYTHONPATH or in the working directory {os.getcwd()}")
    return _digest([f.read_bytes()])


# ----------------------------------------------------------------------------- environment

ENV_ID_KEYS = ("python", "torch", "numpy", "device", "gpu", "cpu_isa", "threads", "noise")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device, threads: int, noise: str) -> dict:
    """What, besides the inputs, decides the bits a training or certification job writes.

    ``cpu_isa`` is the instruction set torch's CPU kernels dispatch to (``AVX512``, ``AVX2``,
    ``DEFAULT``...): two machines with the same versions, ISA and threads give the same bits on
    the CPU (on a GPU: the same GPU model); otherwise results agree only statistically.
    ``noise`` names the generator of the job's noise (:data:`rsmooth.rng.ENGINE`). ``env_id``
    digests the fields in ``ENV_ID_KEYS``; ``cpu_model`` is recorded, not part of it."""
    import numpy
    import torch

    device = torch.device(device)
    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "device": device.type,
        "cpu_isa": torch.backends.cpu.get_cpu_capability(),
        "threads": int(threads),
        "cpu_model": cpu_model(),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else "",
        "noise": str(noise),
    }
    env["env_id"] = environment_id(env)
    return env


def environment_id(env: dict) -> str:
    return _digest(f"{k}={env[k]}" for k in ENV_ID_KEYS)[:8]


ENV_COLUMNS = ["env_id", *ENV_ID_KEYS, "cpu_model"]


def environment_table(*tables):
    """The distinct environments of some job tables (each with the ``environment`` columns and
    a ``role``): one row per (role, env_id) with the number of jobs. Tables written before the
    environment was recorded count as env_id ``unrecorded``."""
    import pandas as pd

    frames = [t for t in tables if t is not None]
    if not frames:
        return pd.DataFrame(columns=["role", *ENV_COLUMNS, "jobs"])
    df = pd.concat(frames, ignore_index=True)
    for c in ENV_COLUMNS:
        if c not in df:
            df[c] = None
    df["env_id"] = df["env_id"].fillna("unrecorded")
    df[ENV_COLUMNS] = df[ENV_COLUMNS].astype(object).fillna("").astype(str)
    return (df.groupby(["role", *ENV_COLUMNS], sort=True).size().rename("jobs").reset_index())
