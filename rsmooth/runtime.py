"""What a job does with a base classifier besides building it (:mod:`rsmooth.models` builds
it): checkpoint I/O, the device, and the checks of the model and of its inputs. Guarantees:

* :func:`save_state` -- the same weights give the same bytes, and the file appears whole or not at all.
* :func:`load_state` -- a checkpoint loads only if its keys and shapes fit the model; else a ValueError names the file.
* :func:`pick_device` -- the device asked for, or a ValueError: never a silent CPU run instead of a requested GPU.
* :func:`check_finite` -- a model whose logits are not all finite on a batch is refused, naming its file.
* :func:`check_pixels` -- images outside [0, 1] (the pixel units of the noise levels) are refused.
"""
from __future__ import annotations

import io

import torch
from torch import nn

from .io import write_bytes


def save_state(model: nn.Module, path) -> None:
    """Write ``model``'s state dict (on the CPU) to ``path`` atomically. The same weights give the
    same bytes: torch names the archive's records after the file it writes, so it writes through
    a file object (records under ``archive/``), never to the temporary file's random name."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    torch.save(state, buf)  # in memory: torch's zip writer turns a full disk into a RuntimeError
    write_bytes(buf.getvalue(), path)


def load_state(model: nn.Module, path) -> nn.Module:
    """Load a ``.pt`` state dict into ``model``; a clear error names the file if it does not fit."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a torch file, pickled objects...
        # torch's own message runs to many lines of advice on weights_only: only its kind here
        raise ValueError(f"{path}: not a PyTorch state dict (truncated, corrupt, or not written "
                         f"by torch.save of a state dict; {type(e).__name__})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict, found {type(state).__name__}")
    want = model.state_dict()
    bad = [f"missing key {k!r}" if k not in state else
           f"key {k!r} has shape {list(getattr(state[k], 'shape', []))}, the model's {list(v.shape)}"
           for k, v in want.items() if k not in state or getattr(state[k], "shape", None) != v.shape]
    bad += [f"unexpected key {k!r}" for k in state if k not in want]
    if bad:
        more = f" ({len(bad) - 1} more mismatched key(s))" if len(bad) > 1 else ""
        raise ValueError(f"{path}: state dict does not fit {type(model).__name__}: {bad[0]}{more}")
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ValueError(f"{path}: state dict does not fit {type(model).__name__}: "
                         f"{' '.join(str(e).split())}") from None
    return model


def check_finite(model: nn.Module, x: torch.Tensor, path) -> None:
    """ValueError naming ``path`` unless ``model``'s logits on the batch ``x`` are all finite:
    a diverged model (NaN or infinite weights) would vote one class everywhere and still get
    certified radii."""
    with torch.inference_mode():
        logits = model(x)
    if not torch.isfinite(logits).all():
        raise ValueError(f"{path}: the model's logits are not finite (NaN or inf) on the first "
                         f"{len(x)} test images: a diverged training? It is not certified")


def pick_device(device: str) -> torch.device:
    """``auto`` is CUDA when available, else CPU; ``cpu``; ``cuda`` or ``cuda:N``, which must
    exist: a requested GPU that is absent is an error (ValueError), never a silent CPU run."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"device {device!r} is not a device; use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} was requested but torch sees no CUDA GPU on "
                             f"this machine; use device auto or cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r} was requested but this machine has "
                             f"{torch.cuda.device_count()} CUDA GPU(s)")
    elif dev.type != "cpu":
        raise ValueError(f"device {device!r} is not supported; use auto, cpu, cuda or cuda:N")
    return dev


def check_pixels(x: torch.Tensor) -> None:
    """The input convention: images are pixels in [0, 1], and noise is added to them in those
    units before the base classifier (normalisation belongs inside it: ``normalize``)."""
    if x.numel() and (float(x.min()) < 0 or float(x.max()) > 1):
        raise ValueError(f"images must be pixels in [0, 1] (noise levels are in those units), got values "
                         f"in [{float(x.min()):g}, {float(x.max()):g}]; normalise inside the model (config normalize)")
