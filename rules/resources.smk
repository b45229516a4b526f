# What the heavy jobs (rules/train.smk, rules/certify.smk) ask of the scheduler: torch threads
# and the cores they reserve, and, for profiles/slurm, runtime and memory sized from the
# dataset's `cluster` block (rsmooth/sizing.py; docs/cluster.md).
from rsmooth import sizing


def torch_threads():
    """Torch threads of every training and certification job: threads_per_job, whatever
    --cores is, so that the same config gives the same bits (the thread count changes the
    order of float reductions). Recorded in each job's environment sidecar."""
    return config["threads_per_job"]


def job_threads():
    """Cores a heavy job reserves in Snakemake's scheduler. On a cluster: threads_per_job (the
    CPUs each job asks for). Locally: enough that no more heavy jobs run at once than the
    machine's CPUs hold at threads_per_job each, since --cores may exceed the real cores (the
    README's --cores 8 on a 2-core machine runs them one after another)."""
    t = torch_threads()
    if not workflow.local_exec:
        return t
    cores = workflow.cores or t
    at_once = max(1, min(cores, len(os.sched_getaffinity(0))) // t)
    return max(t, -(-cores // at_once))


def train_runtime(wc, attempt):
    return sizing.train_minutes(DATASETS[wc.dataset], wc.alpha == "0", attempt)


def certify_runtime(wc, attempt):
    radius = (wc.alpha, wc.beta) in certified_pairs(wc.dataset)
    return sizing.certify_minutes(DATASETS[wc.dataset], radius, attempt)


def job_mem_mb(wc):
    return DATASETS[wc.dataset]["cluster"]["mem_mb"]
