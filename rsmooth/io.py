"""Atomic file output: every file the pipeline writes appears whole or not at all."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

# The columns of a per-image certification table after alpha, beta, seed; here, not in analysis,
# so that certification does not import the analysis: editing it reruns no certification.
PER_IMAGE_COLUMNS = ["index", "label", "vote", "count_top", "count_second", "n_evals",
                     "count_cert", "p_lower", "radius", "abstain", "correct"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file lives in the same folder (so the rename is atomic on POSIX) and keeps
    the suffix of ``path`` (so writers that infer the format from it still work). If the body
    raises, or the process dies, ``path`` is untouched and the temporary file is removed (or,
    after SIGKILL, left as a hidden ``.tmp-*`` file that no rule ever reads).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}.", suffix=path.suffix, dir=path.parent)
    except OSError as e:
        raise _for_target(e, path) from None
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get the usual mode
        os.replace(tmp, path)
    except OSError as e:
        raise _for_target(e, path) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _for_target(e: OSError, path: Path) -> OSError:
    """The same error, naming the output the user asked for (``e.target``), not the hidden
    temporary file that was being written when it happened."""
    if getattr(e, "target", None) is None:
        e.target = str(path)
    return e


def write_bytes(data: bytes, path) -> None:
    """Write ``data`` to ``path`` atomically. Writers that wrap I/O errors in their own
    exceptions (torch.save's zip writer does) render to memory first and write here, so a full
    disk is reported as one."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FLOAT_FORMAT = "%.12g"  # 12 significant digits: 0.012, not 0.011999999999999997


def write_csv(df, path) -> None:
    """Write a pandas DataFrame as CSV atomically (no index column), floats with
    :data:`FLOAT_FORMAT`: the digits a risk or statistic has, without float noise."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format=FLOAT_FORMAT)


def save_figure(fig, stem) -> list[Path]:
    """Save a matplotlib figure as ``stem.png`` and ``stem.pdf``, each atomically."""
    out = []
    for ext in ("png", "pdf"):
        p = Path(f"{stem}.{ext}")
        with atomic_path(p) as tmp:
            fig.savefig(tmp, dpi=150, bbox_inches="tight", metadata=_metadata(ext))
        out.append(p)
    return out


def _metadata(ext: str) -> dict:
    # Fixed metadata keeps the bytes of a figure reproducible across reruns.
    if ext == "pdf":
        return {"CreationDate": None, "Producer": "rsmooth"}
    return {"Software": "rsmooth"}
