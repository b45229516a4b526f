#!/usr/bin/env python
"""One job with 2 threads against two 1-thread jobs side by side (``threads_per_job``).

For the CIFAR-10 fastnet and the paper's MNIST CNN, measures training (forward, backward and an
SGD step) and inference samples/s on batches of 128 in channels_last: in one process with
``--threads`` threads, in one process with 1 thread, and in ``--threads`` 1-thread processes
started together (their rates summed). Prints a Markdown table.
"""
import argparse
import json
import subprocess
import sys
import time


ARCHS = {"fastnet": (3, 32, 32), "cnn": (1, 28, 28)}


def measure(threads: int, batch: int, steps: int) -> dict:
    import torch
    import torch.nn.functional as F

    from rsmooth import cli, models

    cli.keep_freed_memory()
    torch.set_num_threads(threads)
    out = {}
    for arch, shape in ARCHS.items():
        torch.manual_seed(0)
        m = models.build_model(arch, shape[0], 10, shape[1]).to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        x = torch.rand(batch, *shape).contiguous(memory_format=torch.channels_last)
        y = torch.randint(0, 10, (batch,))
        m.train()
        for i in range(steps + 2):
            if i == 2:
                t = time.perf_counter()
            opt.zero_grad()
            F.cross_entropy(m(x), y).backward()
            opt.step()
        out[f"{arch} training"] = steps * batch / (time.perf_counter() - t)
        m.eval()
        with torch.inference_mode():
            for i in range(steps + 2):
                if i == 2:
                    t = time.perf_counter()
                m(x)
        out[f"{arch} inference"] = steps * batch / (time.perf_counter() - t)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2, help="threads of the one-process case, and processes")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(measure(a.child, a.batch, a.steps)))
        return

    def run(threads, copies):
        cmd = [sys.executable, __file__, "--child", str(threads), "--batch", str(a.batch), "--steps", str(a.steps)]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(copies)]
        rates = [json.loads(pr.communicate()[0]) for pr in procs]
        return {k: sum(r[k] for r in rates) for k in rates[0]}

    rows = {f"one process, {a.threads} threads": run(a.threads, 1), "one process, 1 thread": run(1, 1),
            f"{a.threads} one-thread processes side by side (sum)": run(1, a.threads)}
    keys = list(next(iter(rows.values())))
    print(f"samples/s, batch {a.batch}")
    print("| layout | " + " | ".join(keys) + " |")
    print("| --- |" + " --- |" * len(keys))
    for name, r in rows.items():
        print(f"| {name} | " + " | ".join(f"{r[k]:.0f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
