"""Noise-augmented training: each batch of B images is repeated as C copies, each copy gets its
own Gaussian noise x + alpha * eps, and the loss is the mean over the B * C samples.

The B * C samples are pushed through the network in micro-batches whose gradients are
accumulated before the optimizer step: the same gradient (up to float summation order) at a
fraction of the memory traffic, which is what makes CPU training fast. Training saves a
resumable checkpoint after every epoch and, resumed, ends with the same weights as an
uninterrupted run.

The noise eps is made on the training device by the counter-based generator of
:mod:`rsmooth.rng` (stream ``TRAIN_STREAM``, never the certification streams): sample r of
optimizer step t (counted over all epochs) gets draw r of item t under the run's seed, the
same numbers on a CPU and a GPU. Batch order and augmentation come from a CPU
``torch.Generator`` with the same seed.
"""
from __future__ import annotations

import io
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import rng
from .io import write_bytes
from .runtime import check_pixels
from .seeding import derive_seed


@dataclass
class TrainConfig:
    """A training recipe: a dataset's ``train.base`` or ``train.noisy`` section of the config
    (the schema documents each key and holds its default; rsmooth.config.defaults fills them)."""

    epochs: int
    batch_size: int          # B: distinct images per optimizer step
    copies: int              # C: noisy copies of each image per step
    micro_batch: int         # samples per forward/backward pass (speed only)
    train_images: int        # use the first K training images (0: all)
    optimizer: str           # adadelta | sgd
    lr: float
    momentum: float          # sgd only
    weight_decay: float
    schedule: str            # step: lr * gamma**epoch | cosine | onecycle (per step)
    gamma: float
    augment: str             # none | crop_flip (random 4-pixel-pad crop and h-flip)
    label_smoothing: float   # cross-entropy against (1 - s) one-hot + s / K


def train_seed(seed: int, alpha: float, common_noise: bool) -> int:
    """The seed of the generator behind a training run's batch order, augmentation and noise.

    With ``common_noise`` (common random numbers) it does not depend on ``alpha``: every
    h_alpha > 0 of one seed is trained on the same batches, the same augmentation and the same
    standard-normal directions eps, scaled by its alpha (x + alpha eps). Each model's
    distribution is unchanged; the differences between alphas lose the noise they would
    otherwise not share. Without, alpha is part of the seed. Different seeds are independent
    either way."""
    return derive_seed(seed, "train") if common_noise else derive_seed(seed, "train", f"{alpha:g}")


def train_noise(seed: int, step: int, m: int, shape: tuple[int, ...], device) -> torch.Tensor:
    """The standard-normal directions eps of the ``m`` samples of optimizer step ``step`` (over
    all epochs): float32 [m, *shape] on ``device``, row r = draw r of item ``step`` in
    ``TRAIN_STREAM`` under ``seed``. They depend on nothing else: not alpha (common random
    numbers scale them), the device, a resume, or the micro-batches."""
    return rng.normals(seed, rng.TRAIN_STREAM, torch.full((m,), int(step), dtype=torch.int64),
                       torch.arange(m), shape, device)


def onecycle(step: int, total: int) -> float:
    """The ``onecycle`` learning-rate factor at optimizer step ``step`` of ``total``: linear from
    0.1 to 1 over the first quarter of the steps, then linear down to 0.001 at the last step."""
    if total <= 1:
        return 1.0
    t = min(step / (total - 1), 1.0)  # the scheduler's last call (after the last step) stays at the end
    return 0.1 + 0.9 * t / 0.25 if t < 0.25 else 1.0 - 0.999 * (t - 0.25) / 0.75


def _optimizer(model, cfg: TrainConfig, steps_per_epoch: int):
    if cfg.optimizer == "adadelta":
        opt = torch.optim.Adadelta(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    elif cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                              weight_decay=cfg.weight_decay, nesterov=cfg.momentum > 0)
    else:
        raise ValueError(f"unknown optimizer {cfg.optimizer!r}; known: adadelta, sgd")
    if cfg.schedule == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=cfg.gamma)
    elif cfg.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.epochs, 1))
    elif cfg.schedule == "onecycle":
        total = cfg.epochs * steps_per_epoch
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: onecycle(step, total))
    else:
        raise ValueError(f"unknown schedule {cfg.schedule!r}; known: step, cosine, onecycle")
    return opt, sched


def _crop_flip(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Standard CIFAR augmentation: pad 4 (zeros), random crop back, random horizontal flip."""
    n, _, h, w = x.shape
    padded = F.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=g)
    dx = torch.randint(0, 9, (n,), generator=g)
    flip = torch.rand(n, generator=g) < 0.5
    rows = (dy[:, None] + torch.arange(h)[None]).view(n, 1, h, 1)
    cols = dx[:, None] + torch.arange(w)[None]
    cols = torch.where(flip[:, None], cols.flip(1), cols).view(n, 1, 1, w)
    batch = torch.arange(n).view(n, 1, 1, 1)
    chan = torch.arange(x.shape[1]).view(1, -1, 1, 1)
    return padded[batch, chan, rows, cols]


def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, alpha: float,
          cfg: TrainConfig, seed: int, device: torch.device, checkpoint: Path | None = None,
          log=print) -> dict:
    """Train ``model`` in place on float images ``x`` [N, C, H, W] in [0, 1] with noise ``alpha``.

    All randomness comes from ``seed``: batch order and augmentation from a CPU generator
    seeded with it, the noise eps of sample r of optimizer step t (counted from the first
    epoch) from :func:`rsmooth.rng.normals` ``(seed, TRAIN_STREAM, t, r)``, made on ``device``
    (x + alpha * eps there). With ``checkpoint`` set, the state after each epoch is saved
    there (atomically) and a later call with the same arguments resumes from it. Returns
    training metrics.
    A non-finite loss stops training at that step with a ValueError (and removes the
    checkpoint): a diverged model is never returned.
    """
    if cfg.train_images:
        x, y = x[:cfg.train_images], y[:cfg.train_images]
    check_pixels(x)
    model.to(device).to(memory_format=torch.channels_last).train()
    n = len(x)
    steps = (n + cfg.batch_size - 1) // cfg.batch_size
    opt, sched = _optimizer(model, cfg, steps)
    per_step = cfg.schedule == "onecycle"  # the others step once per epoch
    g = torch.Generator().manual_seed(seed)
    start_epoch, losses, wall_before = 0, [], 0.0
    fingerprint = repr((asdict(cfg), float(alpha), int(seed), len(x)))
    if checkpoint is not None and Path(checkpoint).exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        if state.get("fingerprint") == fingerprint:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            g.set_state(state["generator"])
            start_epoch, losses, wall_before = state["epoch"], state["losses"], state["wall_s"]
            log(f"resumed from {checkpoint} after epoch {start_epoch}")
        else:
            log(f"ignoring {checkpoint}: it was written for other training settings")
    t0 = time.perf_counter()
    for epoch in range(start_epoch, cfg.epochs):
        perm = torch.randperm(n, generator=g)
        total, count = 0.0, 0
        bar = tqdm(range(steps), desc=f"epoch {epoch + 1}/{cfg.epochs}", mininterval=5, ascii=True)
        for step in bar:
            idx = perm[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            xb = x[idx].repeat_interleave(cfg.copies, dim=0)
            yb = y[idx].repeat_interleave(cfg.copies, dim=0)
            if cfg.augment == "crop_flip":
                xb = _crop_flip(xb, g)
            m = len(xb)
            if alpha > 0:
                xb = xb.to(device, non_blocking=True)
                xb = xb + alpha * train_noise(seed, epoch * steps + step, m, tuple(xb.shape[1:]), device)
            opt.zero_grad(set_to_none=True)
            step_loss = 0.0
            for s in range(0, m, cfg.micro_batch):
                xm = xb[s:s + cfg.micro_batch].to(device, non_blocking=True)
                xm = xm.contiguous(memory_format=torch.channels_last)
                loss = F.cross_entropy(model(xm), yb[s:s + cfg.micro_batch].to(device),
                                       reduction="sum", label_smoothing=cfg.label_smoothing) / m
                loss.backward()
                step_loss += loss.item()
            if not math.isfinite(step_loss):  # before the step: the weights stay finite
                if checkpoint is not None:
                    Path(checkpoint).unlink(missing_ok=True)  # a diverged run resumes nothing
                raise ValueError(f"training diverged at epoch {epoch + 1} step {step + 1} "
                                 f"(loss {step_loss}); lower lr (now {cfg.lr:g}) or check the data")
            opt.step()
            if per_step:
                sched.step()
            total += step_loss * len(idx)
            count += len(idx)
        if not per_step:
            sched.step()
        losses.append(total / count)
        if checkpoint is not None:  # saved before the epoch is logged as done
            buf = io.BytesIO()  # in memory first: a full disk then fails as an OSError
            torch.save({"fingerprint": fingerprint, "model": model.state_dict(),
                        "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                        "generator": g.get_state(), "epoch": epoch + 1, "losses": losses,
                        "wall_s": wall_before + time.perf_counter() - t0}, buf)
            write_bytes(buf.getvalue(), checkpoint)
        log(f"epoch {epoch + 1}: mean loss {losses[-1]:.4f}")
    wall = wall_before + time.perf_counter() - t0
    samples = n * cfg.copies * cfg.epochs
    return {"final_loss": losses[-1], "train_wall_s": wall,
            "samples_per_s": samples / wall if wall > 0 else float("nan")}


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device,
             batch_size: int = 128, noise: float = 0.0, seed: int = 0) -> float:
    """Accuracy of ``model`` on ``x``, ``y``: clean (``noise == 0``), or on one draw of
    x + noise * eps per image, eps of image i = :func:`rsmooth.rng.normals` ``(seed,
    ACCURACY_STREAM, i, 0)`` made on ``device`` (the same whatever ``batch_size``).
    ``batch_size`` is for speed (128 is the fastest on one CPU thread for both CIFAR-10 and
    MNIST models)."""
    model.eval()
    correct = 0
    with torch.inference_mode():
        for s in range(0, len(x), batch_size):
            xb = x[s:s + batch_size].to(device)
            if noise > 0:
                eps = rng.normals(seed, rng.ACCURACY_STREAM, torch.arange(s, s + len(xb)),
                                  torch.zeros(len(xb), dtype=torch.int64), tuple(xb.shape[1:]), device)
                xb = xb + noise * eps
            xb = xb.contiguous(memory_format=torch.channels_last)
            correct += int((model(xb).argmax(1).cpu() == y[s:s + batch_size]).sum())
    return correct / max(len(x), 1)

