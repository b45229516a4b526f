#!/usr/bin/env python
"""Train one base classifier h_alpha with noise augmentation x + N(0, alpha^2 I).

alpha = 0 trains the base model h_0 from scratch (no noise, one copy per image unless told
otherwise). alpha > 0 starts from --init (h_0) and fine-tunes, or trains from scratch without
--init. Writes the state dict (.pt) and a one-row metrics CSV.
"""
import argparse
import time
from pathlib import Path

from rsmooth import cli


def parser() -> argparse.ArgumentParser:
    """The command line. Options that name a config key have no default here: the rule passes
    each (its default lives in the schema alone)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("--data", required=True, type=cli.existing_file, help="dataset cache (.npz)")
    cli.model_options(p)
    p.add_argument("--alpha", required=True, type=cli.nonneg_float, help="training noise std (pixels)")
    p.add_argument("--seed", required=True, type=cli.nonneg_int, help="training seed")
    p.add_argument("--init", type=cli.existing_file, help="state dict to start from (fine-tuning)")
    p.add_argument("--common-noise", action=argparse.BooleanOptionalAction, required=True,
                   help="the same batches and noise directions for every alpha of a seed "
                        "(common random numbers); --no-common-noise: alpha is part of the seed")
    p.add_argument("--epochs", type=cli.positive_int, required=True, help="passes over the images")
    p.add_argument("--batch-size", type=cli.positive_int, required=True, help="B: images per step")
    p.add_argument("--copies", type=cli.positive_int, required=True, help="C: noisy copies per image")
    p.add_argument("--micro-batch", type=cli.positive_int, required=True,
                   help="samples per forward pass (speed only)")
    p.add_argument("--train-images", type=cli.nonneg_int, required=True,
                   help="use the first K (0: all)")
    p.add_argument("--optimizer", required=True, help="optimizer")
    p.add_argument("--lr", type=cli.positive_float, required=True, help="learning rate")
    p.add_argument("--momentum", type=cli.nonneg_float, required=True, help="SGD momentum")
    p.add_argument("--weight-decay", type=cli.nonneg_float, required=True, help="L2 penalty")
    p.add_argument("--schedule", required=True,
                   help="learning-rate schedule: step (lr x gamma^epoch), cosine (per epoch) or "
                        "onecycle (per step: linear warm-up over the first quarter, then down)")
    p.add_argument("--gamma", type=cli.positive_float, required=True, help="StepLR factor per epoch")
    p.add_argument("--augment", required=True,
                   help="augmentation before the noise")
    p.add_argument("--label-smoothing", type=cli.unit_float, required=True,
                   help="cross-entropy label smoothing s in [0, 1)")
    p.add_argument("--device", required=True, help="auto, cpu, cuda or cuda:N")
    p.add_argument("--threads", type=cli.nonneg_int, required=True,
                   help="torch CPU threads (0: every CPU; the count changes the bits)")
    p.add_argument("--checkpoint", type=Path, help="resumable per-epoch checkpoint (deleted at the end)")
    p.add_argument("--out", required=True, type=Path, help="state dict to write (.pt)")
    p.add_argument("--metrics", required=True, type=Path, help="one-row metrics CSV to write")
    return p


def main() -> None:
    a = parser().parse_args()

    import pandas as pd
    import torch

    from rsmooth import data, io, models, provenance, rng, runtime, training
    from rsmooth.seeding import derive_seed

    t0 = time.perf_counter()
    threads = cli.set_threads(a.threads)
    device = runtime.pick_device(a.device)
    ds = data.load_cache(a.data)
    if a.train_images > len(ds.x_train):
        raise ValueError(f"--train-images {a.train_images} exceeds the {len(ds.x_train)} training "
                         f"images of {a.data} (config key train.*.train_images; 0 = all)")
    c, h, _ = ds.shape
    torch.manual_seed(derive_seed(a.seed, "init", a.arch))
    net = models.build_model(a.arch, c, ds.num_classes, h)
    if a.init is not None:
        runtime.load_state(net, a.init)
    model = models.with_normalize(net, c, a.mean, a.std)  # the checkpoint is net's alone
    cfg = training.TrainConfig(
        epochs=a.epochs, batch_size=a.batch_size, copies=a.copies, micro_batch=a.micro_batch,
        train_images=a.train_images, optimizer=a.optimizer, lr=a.lr, momentum=a.momentum,
        weight_decay=a.weight_decay, schedule=a.schedule, gamma=a.gamma, augment=a.augment,
        label_smoothing=a.label_smoothing)
    print(f"training {a.arch} alpha={a.alpha:g} seed={a.seed} on {device} ({threads} threads): {cfg}")
    x = data.to_float(ds.x_train)
    y = torch.from_numpy(ds.y_train)
    stats = training.train(model, x, y, a.alpha, cfg, training.train_seed(a.seed, a.alpha, a.common_noise),
                           device, checkpoint=a.checkpoint)
    x_test, y_test = data.to_float(ds.x_test), torch.from_numpy(ds.y_test)
    acc = training.accuracy(model, x_test, y_test, device)
    noisy_acc = acc if a.alpha == 0 else training.accuracy(  # alpha 0: the same evaluation
        model, x_test, y_test, device, noise=a.alpha, seed=derive_seed(a.seed, "noisy-accuracy", f"{a.alpha:g}"))
    runtime.save_state(net, a.out)
    # Only what the same inputs reproduce byte for byte; timings go to the log (and to the rule's
    # benchmark file), so rerunning a job rewrites the same table.
    # The environment columns (versions, device, CPU ISA, threads) are the same between
    # identical environments, so they keep the bytes stable and let aggregation see a mix.
    row = {"alpha": a.alpha, "seed": a.seed, "arch": a.arch, "epochs": a.epochs,
           "copies": a.copies, "common_noise": a.common_noise, "final_loss": stats["final_loss"],
           "clean_test_acc": acc,
           "noisy_test_acc": noisy_acc,
           **provenance.environment(device, threads, rng.ENGINE)}
    io.write_csv(pd.DataFrame([row]), a.metrics)
    if a.checkpoint is not None and a.checkpoint.exists():
        a.checkpoint.unlink()
    print(f"clean test accuracy {acc:.4f}, at noise alpha {noisy_acc:.4f}; training {stats['train_wall_s']:.1f} s, "
          f"{stats['samples_per_s']:.0f} samples/s; job {time.perf_counter() - t0:.1f} s; "
          f"wrote {a.out}")


if __name__ == "__main__":
    cli.run(main)
