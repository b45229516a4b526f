#!/usr/bin/env python
"""One prepared benchmark for a machine with a GPU: engine, trainer, a slice of the paper
preset end to end, and the projected wall time of config/paper.yaml.

    python benchmarks/bench_gpu.py --data-root ../shared/data OUT          # on a GPU (< 8 min)
    python benchmarks/bench_gpu.py --device cpu --quick --data-root DATA OUT   # a minute's check

DATA is a torchvision data root with MNIST/raw/ (the four IDX files). Writes OUT/bench_gpu.md
(one Markdown table) and OUT/bench_gpu.csv (the same rows), after every part, and the slice's
files and logs under OUT/slice. Needs torch, numpy and pandas; not Snakemake, not the network;
tqdm, PyYAML, jsonschema, snakemake and torchvision are used when present (without them: a
stand-in progress bar, the paper preset's numbers as written below, and an IDX reader of its
own).

Parts, in the order they run (each row of the table says which):

1. noise: the counter-based generator on the device against the CPU (integers identical;
   float32 values that differ, and by how many ulps).
2. trainer: noisy training samples/s (rsmooth.training.train, random images) for the MNIST CNN
   at the paper's 64 x 100 copies, fastnet at 256 x 1 and ResNet-110 at 256 x 1 with crop and
   flip (the paper preset's CIFAR-10 recipe), with the share of the time spent making noise.
3. slice: the paper preset for MNIST shortened, run through the scripts in DAG order
   (prepare_data.py, train.py for h_0 and a few h_alpha fine-tuned from it, certify.py at one
   or two betas on all 10,000 test images, N = 100, batch 4096): each job's wall time and the
   risks beside the paper's own (reference/pal_sulam_2023_mnist_risk.csv). The h_alpha train
   on the paper's 64 x 100 batches for one pass over as many images as take about 20 s at the
   rate measured in part 2.
4. engine: evaluations/s of rsmooth.core.Smooth.vote, full vote and early stopping, for the
   CNN (the slice's h_alpha on real test images) and fastnet (random weights and images) at a
   few batch sizes, with the share of the time spent making noise (the generator alone on
   batches of that size, times the batches made); the pre-issue-32 engine (numpy noise on
   the host, copied over) beside it for the CNN; ResNet-110 at the paper's batch 4096.
5. projection: the wall time of the whole config/paper.yaml on one such device, jobs one
   after another: training samples / the trainer's rate, evaluations (early stopping's saving
   as measured in the slice for MNIST; none assumed for CIFAR-10) / the engine's rate, plus
   each job's start-up and evaluation overhead as measured in the slice.

``--quick`` shrinks every part (few images, steps and draws; the slice on the first 100 test
images, one alpha and one beta) so that a CPU runs it in well under a minute: its numbers
check the script, they are not the paper's shapes.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
REFERENCE = REPO / "reference" / "pal_sulam_2023_mnist_risk.csv"

# config/paper.yaml as the pipeline reads it (tests/test_bench_gpu.py checks that this equals
# rsmooth.config's reading of the file); used where PyYAML or jsonschema are missing.
PAPER = {
    "mnist": {"arch": "cnn", "alphas": 100, "betas": 10, "train_size": 60000, "n_test": 10000,
              "from_base": True, "n_votes": 100, "n_cert": 0, "certify_batch": 4096,
              "base": {"epochs": 9, "batch_size": 64, "copies": 1, "micro_batch": 128, "train_images": 0},
              "noisy": {"epochs": 9, "batch_size": 64, "copies": 100, "micro_batch": 6400, "train_images": 0}},
    "cifar10": {"arch": "resnet110", "alphas": 61, "betas": 7, "train_size": 50000, "n_test": 4000,
                "from_base": False, "n_votes": 200, "n_cert": 0, "certify_batch": 4096,
                "base": {"epochs": 90, "batch_size": 256, "copies": 1, "micro_batch": 256, "train_images": 0},
                "noisy": {"epochs": 90, "batch_size": 256, "copies": 1, "micro_batch": 256, "train_images": 0}},
}
# The MNIST recipe's other keys (the schema's defaults), for the slice's train.py jobs.
MNIST_RECIPE = {"optimizer": "adadelta", "lr": 1.0, "momentum": 0.9, "weight_decay": 0.0,
                "schedule": "step", "gamma": 0.7, "augment": "none", "label_smoothing": 0.0}
CIFAR_RECIPE = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0001,
                "schedule": "cosine", "gamma": 0.7, "augment": "crop_flip", "label_smoothing": 0.0}
SHAPES = {"cnn": (1, 28, 28), "fastnet": (3, 32, 32), "resnet110": (3, 32, 32)}

TQDM_STANDIN = '''"""A stand-in for tqdm written by benchmarks/bench_gpu.py where tqdm is not installed."""


class tqdm:
    def __init__(self, iterable=None, total=None, **kwargs):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def update(self, n=1):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
'''


def stand_ins(folder: Path) -> str:
    """Make missing optional modules importable (a stand-in tqdm); returns the folder to put on
    PYTHONPATH ('' if nothing was missing)."""
    if importlib.util.find_spec("tqdm") is not None:
        return ""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tqdm.py").write_text(TQDM_STANDIN)
    sys.path.insert(0, str(folder))
    return str(folder)


def paper_plan() -> dict:
    """The paper preset's grid sizes and recipes, from config/paper.yaml through rsmooth.config
    where PyYAML, jsonschema and snakemake are installed, else :data:`PAPER`."""
    try:
        import yaml

        from rsmooth import config

        cfg = config.validate_config(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    except ImportError:  # PyYAML, jsonschema or snakemake (the schema's defaults) missing
        return PAPER
    sizes = {"mnist": (60000, 10000), "cifar10": (50000, 10000)}
    keys = ("epochs", "batch_size", "copies", "micro_batch", "train_images")
    out = {}
    for name, d in cfg["datasets"].items():
        train_size, test_size = sizes[d["source"]]
        out[name] = {"arch": d["arch"], "alphas": len(config.grid(d["alphas"])),
                     "betas": len(config.grid(d["betas"])), "train_size": train_size,
                     "n_test": d["certify"]["n_test"] or test_size, "from_base": d["train"]["from_base"],
                     "n_votes": d["certify"]["n_votes"], "n_cert": d["certify"]["n_cert"],
                     "certify_batch": d["certify"]["batch_size"],
                     **{part: {k: d["train"][part][k] for k in keys} for part in ("base", "noisy")}}
    return out


class Table:
    """The rows of the report: written as CSV and one Markdown table after every part."""

    def __init__(self, out: Path, header: list[str]):
        self.out, self.header, self.rows = out, header, []

    def add(self, part, item, value, unit, detail=""):
        self.rows.append({"part": part, "item": item, "value": value, "unit": unit, "detail": detail})
        print(f"  {part}: {item}: {fmt(value)} {unit} {detail}", flush=True)

    def write(self):
        df = pd.DataFrame(self.rows, columns=["part", "item", "value", "unit", "detail"])
        df.to_csv(self.out / "bench_gpu.csv", index=False)
        lines = [*self.header, "", "| part | what | value | unit | detail |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {r.part} | {r.item} | {fmt(r.value)} | {r.unit} | {r.detail} |" for r in df.itertuples()]
        (self.out / "bench_gpu.md").write_text("\n".join(lines) + "\n")


def fmt(v) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    v = float(v)
    if abs(v) >= 100 or v == int(v):
        return f"{v:,.0f}"
    return f"{v:.4g}"


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_time(f, device, reps=3) -> float:
    f()
    best = float("inf")
    for _ in range(reps):
        sync(device)
        t = time.perf_counter()
        f()
        sync(device)
        best = min(best, time.perf_counter() - t)
    return best


# ------------------------------------------------------------------------------ 1. noise

def noise_check(table, device):
    from rsmooth import rng

    if device.type == "cpu":
        table.add("noise", "device against CPU", "n/a", "", "the device is the CPU")
        return
    draw, index = torch.arange(256), torch.full((256,), 7)
    counter = torch.arange(4096).view(1, -1)
    cpu = rng.splitmix64(rng.row_states(2026, 0, index, draw), counter)
    dev = rng.splitmix64(rng.row_states(2026, 0, index.to(device), draw.to(device)), counter.to(device))
    same = torch.equal(cpu, dev.cpu())
    table.add("noise", "SplitMix64 words, device = CPU", "yes" if same else "NO", "",
              f"{cpu.numel():,} 64-bit words")
    a = rng.normals(2026, 0, index, draw, (8192,))
    b = rng.normals(2026, 0, index.to(device), draw.to(device), (8192,)).cpu()
    differ = int((a != b).sum())
    ulps = int((a.view(torch.int32).long() - b.view(torch.int32).long()).abs().max())
    table.add("noise", "float32 normals that differ from the CPU's", differ, f"of {a.numel():,}",
              f"max {ulps} ulp")


# ---------------------------------------------------------------------------- 2. trainer

def trainer_rate(arch, b, c, micro, steps, device, recipe):
    """Noisy samples/s of rsmooth.training.train at B x C (one epoch of ``steps`` steps on
    random images, after one warm-up step) and the share of it spent making the noise."""
    from rsmooth import models, training

    shape = SHAPES[arch]
    torch.manual_seed(0)
    net = models.build_model(arch, shape[0], 10, shape[1])
    x, y = torch.rand(b * steps, *shape), torch.randint(0, 10, (b * steps,))
    cfg = training.TrainConfig(epochs=1, batch_size=b, copies=c, micro_batch=micro, train_images=0, **recipe)
    training.train(net, x[:b], y[:b], 0.5, cfg, 0, device, log=lambda *m: None)
    stats = training.train(net, x, y, 0.5, cfg, 0, device, log=lambda *m: None)
    t_noise = best_time(lambda: training.train_noise(0, 0, b * c, shape, device), device)
    share = t_noise * steps / (b * c * steps / stats["samples_per_s"])
    return stats["samples_per_s"], share


def trainers(table, device, quick):
    shapes = {  # arch: (B, C, micro-batch, steps, recipe)
        "cnn": (64, 10, 128, 2, MNIST_RECIPE) if quick else (64, 100, 6400, 6, MNIST_RECIPE),
        "fastnet": (64, 1, 64, 2, CIFAR_RECIPE) if quick else (256, 1, 256, 20, CIFAR_RECIPE),
        "resnet110": (8, 1, 8, 1, CIFAR_RECIPE) if quick else (256, 1, 256, 8, CIFAR_RECIPE),
    }
    rates = {}
    for arch, (b, c, micro, steps, recipe) in shapes.items():
        rate, share = trainer_rate(arch, b, c, micro, steps, device, recipe)
        rates[arch] = rate
        table.add("trainer", f"{arch}, {b} x {c} copies (micro-batch {micro})", rate, "samples/s",
                  f"noise {100 * share:.1f}% of the time; {recipe['augment']}")
    return rates


# ------------------------------------------------------------------------------ 3. slice

def run_script(name, args, log: Path, env) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, str(SCRIPTS / name), *map(str, args)], capture_output=True,
                       text=True, env=env)
    wall = time.perf_counter() - t
    log.write_text(r.stdout + r.stderr)
    if r.returncode != 0:
        raise RuntimeError(f"{name} failed ({log}):\n{(r.stdout + r.stderr)[-2000:]}")
    return wall, r.stdout


def read_idx_mnist(root: Path):
    """MNIST from torchvision's raw IDX files without torchvision (rsmooth.data.Arrays)."""
    from rsmooth import data

    def idx(name):
        raw = (root / "MNIST" / "raw" / name).read_bytes()
        dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(raw[3])]
        return np.frombuffer(raw, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)

    return data.Arrays(idx("train-images-idx3-ubyte")[:, None], idx("train-labels-idx1-ubyte").astype(np.int64),
                       idx("t10k-images-idx3-ubyte")[:, None], idx("t10k-labels-idx1-ubyte").astype(np.int64), 10)


def options(d: dict) -> list[str]:
    out = []
    for k, v in d.items():
        flag = "--" + k.replace("_", "-")
        out += ([flag] if v else ["--no-" + k.replace("_", "-")]) if isinstance(v, bool) else [flag, str(v)]
    return out


def slice_run(table, a, device, env, train_rate, plan):
    from rsmooth import data

    work = a.out / "slice"
    (work / "models").mkdir(parents=True, exist_ok=True)
    (work / "certify").mkdir(exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    cache = work / "data.npz"
    t0 = time.perf_counter()
    if importlib.util.find_spec("torchvision") is not None:
        wall, _ = run_script("prepare_data.py", ["--source", "mnist", "--root", a.data_root, "--out", cache],
                             work / "logs" / "prepare_data.log", env)
        how = "prepare_data.py"
    else:
        t = time.perf_counter()
        data.save_cache(read_idx_mnist(Path(a.data_root)), cache)
        wall, how = time.perf_counter() - t, "IDX reader of bench_gpu.py (torchvision missing)"
    ds = data.load_cache(cache)
    if a.quick:  # the scripts then also evaluate their accuracies on fewer images
        ds = data.Arrays(ds.x_train[:2048], ds.y_train[:2048], ds.x_test[:500], ds.y_test[:500], ds.num_classes)
        data.save_cache(ds, cache)
        how += ", cut to the first 2,048 and 500 (--quick)"
    table.add("slice", "prepare data", wall, "s", f"{how}: {len(ds.x_train):,} train, {len(ds.x_test):,} test images")
    common = ["--arch", "cnn", "--seed", 0, "--device", a.device, "--threads", a.threads]
    mnist = plan["mnist"]
    base = {**mnist["base"], **MNIST_RECIPE, "epochs": 1, "common_noise": True,
            "train_images": 0}
    noisy = {**mnist["noisy"], **MNIST_RECIPE, "epochs": 1, "common_noise": True}
    if a.quick:
        noisy.update(copies=4, micro_batch=128, train_images=min(len(ds.x_train), 256))
    else:  # one pass over as many images as take about 20 s at the measured rate
        images = int(20 * train_rate / noisy["copies"]) // noisy["batch_size"] * noisy["batch_size"]
        noisy["train_images"] = int(min(len(ds.x_train), max(noisy["batch_size"] * 10, images)))
    overheads = {"train": [], "certify": []}
    models_ = {}
    for alpha in [0.0, *a.alphas]:
        name = f"alpha{alpha:g}_seed0"
        out = work / "models" / f"{name}.pt"
        recipe = base if alpha == 0 else noisy
        init = [] if alpha == 0 else ["--init", models_[0.0]]
        wall, stdout = run_script("train.py", ["--data", cache, *common, "--alpha", alpha, *init, *options(recipe),
                                               "--out", out, "--metrics", work / "models" / f"{name}.metrics.csv"],
                                  work / "logs" / f"train_{name}.log", env)
        train_s = float(re.search(r"training ([0-9.]+) s", stdout).group(1))
        samples = (recipe["train_images"] or len(ds.x_train)) * recipe["copies"] * recipe["epochs"]
        overheads["train"].append(wall - train_s)
        acc = pd.read_csv(work / "models" / f"{name}.metrics.csv")["clean_test_acc"].item()
        table.add("slice", f"train h_{alpha:g} ({recipe['batch_size']} x {recipe['copies']}, "
                  f"{recipe['train_images'] or len(ds.x_train):,} images, 1 epoch)", wall, "s",
                  f"{samples / train_s:,.0f} samples/s in training; clean accuracy {acc:.4f}")
        models_[alpha] = out
    reference = pd.read_csv(REFERENCE)
    n_test = min(len(ds.x_test), 100) if a.quick else 0
    n_votes = 20 if a.quick else mnist["n_votes"]
    batch = 128 if device.type == "cpu" else mnist["certify_batch"]
    saved = []
    for alpha, model in models_.items():
        for beta in a.betas:
            name = f"alpha{alpha:g}_beta{beta:g}_seed0"
            table_path = work / "certify" / f"{name}.csv"
            wall, stdout = run_script("certify.py", [
                "--model", model, "--data", cache, *common, "--alpha", alpha, "--beta", beta,
                "--n-test", n_test, "--sample", "random", "--sample-seed", 0,  # the schema's defaults
                "--n-votes", n_votes, "--n-cert", 0, "--failure-prob", 0.001,
                "--batch-size", batch, "--early-stop", "--out", table_path, "--env", work / "certify" / f"{name}.env.csv"],
                work / "logs" / f"certify_{name}.log", env)
            cert_s = float(re.search(r"evaluations in ([0-9.]+) s", stdout).group(1))
            overheads["certify"].append(wall - cert_s)
            t = pd.read_csv(table_path)
            risk, evals = 1 - t["correct"].mean(), int(t["n_evals"].sum())
            saved.append(1 - evals / (n_votes * len(t)))
            ref = reference[np.isclose(reference.alpha, alpha) & np.isclose(reference.beta, beta)]
            paper = f"paper {ref.risk.item():.4f}" if len(ref) else "not in the paper's table"
            table.add("slice", f"certify h_{alpha:g} at beta {beta:g} ({len(t):,} images, N = {n_votes})", wall, "s",
                      f"risk {risk:.4f} ({paper}); {evals / cert_s:,.0f} evaluations/s; "
                      f"early stopping saved {100 * saved[-1]:.0f}%")
    table.add("slice", "end to end", time.perf_counter() - t0, "s",
              f"{1 + len(models_)} + {len(models_) * len(a.betas)} jobs, one after another")
    return models_[a.alphas[-1] if a.alphas else 0.0], ds, {k: float(np.median(v)) for k, v in overheads.items()}, \
        float(np.mean(saved))


# ----------------------------------------------------------------------------- 4. engine

def engine_rate(model, x, n, beta, batch, device, early):
    """Evaluations/s made by Smooth.vote and the estimated share spent making noise."""
    from rsmooth import core, rng

    smooth = core.Smooth(model, 10, beta, batch_size=batch, device=device)
    idx = np.arange(len(x))
    smooth.vote(x[:8], idx[:8], 4, 0)  # warm-up
    sync(device)
    t = time.perf_counter()
    r = smooth.vote(x, idx, n, 0, early_stop=early)
    sync(device)
    wall = time.perf_counter() - t
    evals = int(r.n_evals.sum())
    rows = torch.arange(batch, device=device)
    t_noise = best_time(lambda: rng.normals(0, 0, rows, rows, tuple(x.shape[1:]), device), device)
    return evals / wall, min(1.0, t_noise * math.ceil(evals / batch) / wall), 1 - evals / (n * len(x))


def engines(table, device, quick, cnn_model, ds):
    from rsmooth import data, models, runtime

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_certify import legacy_vote

    batches = [128] if device.type == "cpu" else [1024, 4096, 16384]
    n = 20 if quick else 100
    x_mnist = data.to_float(ds.x_test[:32 if quick else 2000])
    cnn = runtime.load_state(models.build_model("cnn", 1, 10, 28), cnn_model).eval().to(device)
    torch.manual_seed(0)
    fast = models.build_model("fastnet", 3, 10, 32).eval().to(device)
    x_cifar = torch.rand(16 if quick else 500, 3, 32, 32)
    rates = {}
    for arch, model, x, beta, source in (("cnn", cnn, x_mnist, 0.5, f"h_{cnn_model.stem}, MNIST test images"),
                                         ("fastnet", fast, x_cifar, 0.25, "random weights and images")):
        model.to(memory_format=torch.channels_last)
        for batch in batches:
            for early in (False, True):
                rate, share, saved = engine_rate(model, x, n, beta, batch, device, early)
                rates[(arch, batch, early)] = rate
                mode = "early stopping (evaluations made)" if early else "full vote"
                table.add("engine", f"{arch}, batch {batch}, {mode}", rate, "evaluations/s",
                          f"noise {100 * share:.1f}% of the time; {len(x):,} images x N = {n}, beta {beta:g}"
                          + (f"; saved {100 * saved:.0f}% of the draws" if early else "") + f"; {source}")
    from rsmooth import core

    batch = batches[-2] if len(batches) > 1 else batches[0]
    smooth = core.Smooth(cnn, 10, 0.5, batch_size=batch, device=device)
    legacy_vote(smooth, x_mnist[:8], np.arange(8), 4, 0)
    sync(device)
    t = time.perf_counter()
    r = legacy_vote(smooth, x_mnist, np.arange(len(x_mnist)), n, 0, early_stop=False)
    sync(device)
    table.add("engine", f"cnn, batch {batch}, full vote, the pre-issue-32 engine", r.n_evals.sum() / (time.perf_counter() - t),
              "evaluations/s", "numpy PCG64 noise drawn image by image on the host, copied to the device")
    torch.manual_seed(0)
    res = models.build_model("resnet110", 3, 10, 32).eval().to(device).to(memory_format=torch.channels_last)
    batch = 32 if quick else PAPER["cifar10"]["certify_batch"]
    rate, share, _ = engine_rate(res, torch.rand(4 if quick else 100, 3, 32, 32), 8 if quick else 200, 0.25,
                                 batch, device, False)
    rates[("resnet110", batch, False)] = rate
    table.add("engine", f"resnet110, batch {batch}, full vote", rate, "evaluations/s",
              f"noise {100 * share:.1f}% of the time; random weights and images")
    return rates


# ------------------------------------------------------------------------- 5. projection

def projection(table, plan, train_rates, engine_rates, overheads, saved, device):
    """Job-seconds of config/paper.yaml on this device from the measured rates."""
    batch = 128 if device.type == "cpu" else None
    total = 0.0
    for name, d in plan.items():
        arch = d["arch"]
        b = batch or d["certify_batch"]
        cert_rate = engine_rates.get((arch, b, name == "mnist")) or engine_rates.get((arch, b, False)) \
            or max(r for (k, _, _), r in engine_rates.items() if k == arch)
        n_noisy = d["alphas"] - 1
        samples = d["train_size"] * (d["base"]["epochs"] * d["base"]["copies"]
                                     + n_noisy * d["noisy"]["epochs"] * d["noisy"]["copies"])
        train_s = samples / train_rates[arch] + d["alphas"] * overheads["train"]
        keep = 1 - saved if name == "mnist" else 1.0
        evals = d["alphas"] * (d["n_test"] + (d["betas"] - 1) * d["n_test"] * (d["n_votes"] * keep + d["n_cert"]))
        cert_s = evals / cert_rate + d["alphas"] * d["betas"] * overheads["certify"]
        total += train_s + cert_s
        table.add("projection", f"config/paper.yaml {name}: {d['alphas']} trainings ({arch})", train_s / 3600, "h",
                  f"{samples:.3g} samples at {train_rates[arch]:,.0f}/s + {overheads['train']:.1f} s per job")
        table.add("projection", f"config/paper.yaml {name}: {d['alphas'] * d['betas']} certifications", cert_s / 3600, "h",
                  f"{evals:.3g} evaluations at {cert_rate:,.0f}/s"
                  + (f" (early stopping saves {100 * saved:.0f}%, as in the slice)" if name == "mnist" else
                     " (no early-stopping saving assumed)") + f" + {overheads['certify']:.1f} s per job")
    where = f"one {torch.cuda.get_device_name(device)}" if device.type == "cuda" else \
        f"{torch.get_num_threads()} CPU thread(s)"
    table.add("projection", "config/paper.yaml, all jobs one after another", total / 3600, "h",
              f"{sum(d['alphas'] * (1 + d['betas']) for d in plan.values())} jobs on {where}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, help="folder for bench_gpu.md, bench_gpu.csv and the slice")
    p.add_argument("--data-root", required=True, help="torchvision data root with MNIST/raw/")
    p.add_argument("--device", default="auto", help="auto, cuda, cuda:N or cpu")
    p.add_argument("--quick", action="store_true", help="every part shrunk: a check that runs in under a minute")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (the pipeline's default: 1)")
    p.add_argument("--alphas", type=float, nargs="*", help="the slice's h_alpha (default 0.3 0.5 0.7; quick 0.5)")
    p.add_argument("--betas", type=float, nargs="+", help="the slice's betas (default 0.5 0.7; quick 0.5)")
    a = p.parse_args()
    a.alphas = a.alphas if a.alphas is not None else ([0.5] if a.quick else [0.3, 0.5, 0.7])
    a.betas = a.betas or ([0.5] if a.quick else [0.5, 0.7])
    if not (Path(a.data_root) / "MNIST" / "raw").is_dir():
        p.error(f"--data-root {a.data_root}: no MNIST/raw/ folder there")
    a.out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(REPO))
    shim = stand_ins(a.out / "standins")
    # the scripts import rsmooth: from this checkout, installed (pip install -e .) or not
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        x for x in (str(REPO), shim, os.environ.get("PYTHONPATH", "")) if x))
    from rsmooth import cli, rng, runtime

    cli.keep_freed_memory()
    torch.set_num_threads(a.threads)
    device = runtime.pick_device(a.device)
    a.device = str(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({platform.processor() or platform.machine()}, {torch.backends.cpu.get_cpu_capability()})"
    t0 = time.perf_counter()
    table = Table(a.out, [f"bench_gpu.py{' --quick' if a.quick else ''} on {name}, {a.threads} CPU thread(s); "
                          f"torch {torch.__version__}, numpy {np.__version__}; noise: {rng.ENGINE}; "
                          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"])
    plan = paper_plan()
    print(f"bench_gpu on {name}", flush=True)
    noise_check(table, device)
    table.write()
    train_rates = trainers(table, device, a.quick)
    table.write()
    cnn_model, ds, overheads, saved = slice_run(table, a, device, env, train_rates["cnn"], plan)
    table.write()
    engine_rates = engines(table, device, a.quick, cnn_model, ds)
    table.write()
    projection(table, plan, train_rates, engine_rates, overheads, saved, device)
    table.add("total", "this benchmark", time.perf_counter() - t0, "s", "")
    table.write()
    print(f"\nwrote {a.out / 'bench_gpu.md'} and {a.out / 'bench_gpu.csv'}")


if __name__ == "__main__":
    main()
