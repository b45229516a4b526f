#!/usr/bin/env python
"""Per-job overhead of a certification job: everything that is not the smoothing itself.

Runs scripts/certify.py as its own process (as a Snakemake job does), once per beta, with the
default preset's certification settings, and compares the process's wall time with the time the
script reports for the certification loop ("... evaluations in X s"). The rest is start-up
(Python, torch), loading data and model, and writing the table. Each beta runs twice: started
directly (RSMOOTH_WARM=0: the job imports torch itself) and through the warm worker
(RSMOOTH_WARM=1, as the pipeline starts it; one job before the table starts the worker). Also
times a bare `python -c "import torch"`. Prints a Markdown table; writes nothing else outside a
temporary folder (and the worker's socket under $TMPDIR/rsmooth-warm-<uid>/).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(cmd, warm="0"):
    env = dict(os.environ, RSMOOTH_WARM=warm)
    t = time.perf_counter()
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-2000:]}")
    return wall, r.stdout + r.stderr


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="results/mnist/models/alpha0.5_seed0.pt")
    p.add_argument("--data", default="results/mnist/data.npz")
    p.add_argument("--alpha", type=float, default=0.5, help="the model's training noise (a label)")
    p.add_argument("--betas", type=float, nargs="+", default=[0.25, 0.5, 0.75])
    p.add_argument("--n-test", type=int, default=500, help="the default preset's 500")
    p.add_argument("--n-votes", type=int, default=100)
    p.add_argument("--n-cert", type=int, default=0, help="0: a vote-only job (most jobs)")
    a = p.parse_args()
    for f in (a.model, a.data):
        if not Path(f).exists():
            sys.exit(f"bench_job.py: {f} does not exist (run the default preset first, or pass --model/--data)")

    import_s = min(timed([sys.executable, "-c", "import torch"])[0] for _ in range(3))
    print(f"python -c 'import torch': {import_s:.2f} s (best of 3)\n")
    print("| start | beta | job wall s | certification s | overhead s | overhead share | evaluations/s in the job |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        def job(beta, warm):
            return timed([sys.executable, REPO / "scripts" / "certify.py", "--model", a.model,
                          "--data", a.data, "--alpha", a.alpha, "--beta", beta,
                          "--n-test", a.n_test, "--n-votes", a.n_votes, "--n-cert", a.n_cert,
                          "--out", Path(tmp) / f"beta{beta:g}_{warm}.csv"], warm)

        job(a.betas[0], "1")  # starts the worker (the pipeline's first job pays this once)
        for warm, name in (("0", "direct"), ("1", "warm worker")):
            for beta in a.betas:
                wall, log = job(beta, warm)
                m = re.search(r"(\d+) evaluations in ([\d.]+) s", log)
                evals, cert_s = int(m.group(1)), float(m.group(2))
                over = wall - cert_s
                print(f"| {name} | {beta:g} | {wall:.2f} | {cert_s:.2f} | {over:.2f} "
                      f"| {100 * over / wall:.1f}% | {evals / cert_s:.0f} |")
        same = all((Path(tmp) / f"beta{b:g}_0.csv").read_bytes() == (Path(tmp) / f"beta{b:g}_1.csv").read_bytes()
                   for b in a.betas)
        print(f"\nDirect and warm-worker tables byte-identical for every beta: {same}")

if __name__ == "__main__":
    main()
