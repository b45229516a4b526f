# Helpers shared by the rules: config validation, grids, paths, command-line arguments and
# provenance (the content fingerprints that make results follow their code and data).
import json
import os
import shlex
import sys

sys.path.insert(0, workflow.basedir)

from rsmooth import provenance, reference, sizing  # noqa: E402
from rsmooth.config import (  # noqa: E402
    ConfigError,
    config_record,
    fmt,
    grid,
    radius_pairs,
    validate_config,
)
from rsmooth.seeding import derive_seed  # noqa: E402

try:
    config.update(validate_config(config))
except ConfigError as e:
    raise WorkflowError(str(e)) from None

RES = config["results"]
SCRIPTS = f"{workflow.basedir}/scripts"
DATASETS = {k: v for k, v in config["datasets"].items() if v["enabled"]}
SEEDS = config["seeds"]
# Training and certification scripts may hand their run to a worker that imported torch once
# (rsmooth/warm.py, off by default). Jobs inherit this variable (cluster jobs re-read this file
# and set it), so switching warm_worker changes no rule's code or params: nothing reruns.
os.environ.update(RSMOOTH_WARM="1" if config["warm_worker"] else "0")


def script(stage, args):
    """The shell command that runs scripts/STAGE.py with ``args``, ending in a comment with
    the content fingerprint of that script and of the rsmooth modules it imports. Snakemake
    records each rule's command text (its "code" rerun trigger), so editing that code reruns
    exactly the jobs that run it and what depends on them, and `snakemake --list-changes code`
    lists their outputs; a touch, a checkout of the same content or a new clone (in any
    folder: the scripts' folder comes from $RSMOOTH_SCRIPTS, not the text) changes nothing.
    """
    digest = provenance.code_fingerprint(f"{SCRIPTS}/{stage}.py")
    return f'python "$RSMOOTH_SCRIPTS/{stage}.py" {args}  # code {digest}'


os.environ.update(RSMOOTH_SCRIPTS=SCRIPTS)


wildcard_constraints:
    dataset="(?!synthetic/)[A-Za-z0-9_-]+",
    alpha="[0-9]+(\\.[0-9]+)?",
    beta="[0-9]+(\\.[0-9]+)?",
    seed="[0-9]+",


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


def alphas(ds):
    return [fmt(a) for a in grid(DATASETS[ds]["alphas"])]


def betas(ds):
    return [fmt(b) for b in grid(DATASETS[ds]["betas"])]


def cli_args(options, skip=()):
    """A dict of options as shell-quoted command-line arguments: {"n_votes": 100} ->
    "--n-votes 100"; booleans become --flag / --no-flag; a list gives several values."""
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
    return " ".join(out)


def quoted(paths):
    """Paths as one shell-quoted string of arguments."""
    return " ".join(shlex.quote(str(p)) for p in paths)


def data_fingerprint(wc):
    """Content fingerprint of the files data preparation reads for this dataset (raw MNIST,
    CIFAR-10 batches or .npz; published md5 sums for files not downloaded yet)."""
    d = DATASETS[wc.dataset]
    return provenance.data_fingerprint(d["source"], config["data_root"], d["path"])


def all_certs(wc):
    """Every certification table of the dataset: all seeds, alphas and betas."""
    return [
        cert_path(wc.dataset, a, b, s)
        for s in SEEDS
        for a in alphas(wc.dataset)
        for b in betas(wc.dataset)
    ]


def model_path(ds, alpha, seed):
    return f"{RES}/{ds}/models/alpha{alpha}_seed{seed}.pt"


def cert_path(ds, alpha, beta, seed):
    return f"{RES}/{ds}/certify/alpha{alpha}_beta{beta}_seed{seed}.csv"


def certified_pairs(ds):
    """The (alpha, beta) pairs with radii, drawn in the certified-accuracy figure."""
    return radius_pairs(DATASETS[ds])


def certify_args(wc):
    """The certify options of a job; only the radius pairs get the n_cert draws."""
    c = dict(DATASETS[wc.dataset]["certify"])
    if (wc.alpha, wc.beta) not in certified_pairs(wc.dataset):
        c["n_cert"] = 0
    return cli_args(c, skip=("radius_pairs",))


def dataset_targets(ds):
    out = [
        f"{RES}/{ds}/risk.csv",
        f"{RES}/{ds}/alpha_star.csv",
        f"{RES}/{ds}/claims.csv",
    ]
    figs = ["risk_curves", "heatmap", "alpha_star", "claims"]
    figs += ["certified"] if certified_pairs(ds) else []
    if reference_table(ds):
        out += [f"{RES}/{ds}/paper_comparison.csv", f"{RES}/{ds}/paper_claims.csv"]
        figs += ["paper_comparison"]
    out += expand(f"{RES}/{ds}/figures/{{fig}}.{{ext}}", fig=figs, ext=["png", "pdf"])
    return out


def all_targets():
    out = [f"{RES}/config_used.yaml"] + [
        t for ds in DATASETS for t in dataset_targets(ds)
    ]
    if config["synthetic"].get("enabled", False):
        out += synthetic_targets()
    return out


# --- the paper's table beside ours (rules/compare.smk) ---

# The paper's tables ship in reference/; the rule names them through $RSMOOTH_REFERENCE (as the
# scripts through $RSMOOTH_SCRIPTS), so their place is in no rule's params: a new clone in
# another folder reruns nothing. params.digest (their content) reruns the rule after an edit.
os.environ.update(RSMOOTH_REFERENCE=f"{workflow.basedir}/reference")


def reference_table(ds):
    """The reference table of a dataset (rsmooth/reference.py), or None: no comparison."""
    d = DATASETS[ds]
    try:
        return reference.resolve(d["reference"], d["source"], d["classes"])
    except ValueError as e:
        raise WorkflowError(f"config key datasets.{ds}.reference: {e}") from None


def reference_arg(wc):
    """The reference table as the script's argument, free of the workflow's own folder."""
    path = reference_table(wc.dataset)
    if path is None:
        raise WorkflowError(f"datasets.{wc.dataset}.reference is none: no comparison")
    if DATASETS[wc.dataset]["reference"] == reference.PAPER:
        return f'"$RSMOOTH_REFERENCE/{path.name}"'
    return shlex.quote(str(path))


def reference_digest(wc):
    return provenance.md5_file(reference_table(wc.dataset))


# --- training (rules/train.smk) ---


def train_init(wc):
    if wc.alpha == "0" or not DATASETS[wc.dataset]["train"]["from_base"]:
        return []
    return model_path(wc.dataset, "0", wc.seed)


def train_args(wc):
    t = DATASETS[wc.dataset]["train"]
    return cli_args(t["base"] if wc.alpha == "0" else t["noisy"])


# --- cluster sizing (resources of train and certify; used by profiles/slurm) ---


def train_runtime(wc, attempt):
    return sizing.train_minutes(DATASETS[wc.dataset], wc.alpha == "0", attempt)


def certify_runtime(wc, attempt):
    radius = (wc.alpha, wc.beta) in certified_pairs(wc.dataset)
    return sizing.certify_minutes(DATASETS[wc.dataset], radius, attempt)


def job_mem_mb(wc):
    return DATASETS[wc.dataset]["cluster"]["mem_mb"]


# --- figures (rules/figures.smk) ---


def figure_options(wc):
    d = DATASETS[wc.dataset]
    opts = dict(d["figures"].get(wc.figure, {}))
    if wc.figure == "risk_curves":
        opts.update(
            window=d["analysis"]["savgol_window"], order=d["analysis"]["savgol_order"]
        )
    return json.dumps(opts, sort_keys=True)


def figure_inputs(wc):
    if wc.figure == "certified":
        return [
            cert_path(wc.dataset, a, b, s)
            for a, b in certified_pairs(wc.dataset)
            for s in SEEDS[:1]
        ]
    if wc.figure == "alpha_star":
        return [f"{RES}/{wc.dataset}/alpha_star.csv"]
    return [f"{RES}/{wc.dataset}/risk.csv"]


def figure_source(wc, input):
    """The figure script's input argument."""
    flag = {"certified": "--certs", "alpha_star": "--alpha-star"}.get(
        wc.figure, "--risk"
    )
    return f"{flag} {quoted(input)}"


# --- the synthetic experiment (rules/synthetic.smk) ---


def synthetic_grid(part, axis):
    """Noise levels of the synthetic set ``part`` as file-name strings."""
    return [fmt(v) for v in grid(config["synthetic"][part][axis])]


def synthetic_sample_args(wc_or_part):
    """Sampling options of a synthetic set (figure4, heatmap) or of Figure 3."""
    part = getattr(wc_or_part, "set", wc_or_part)
    s, p = config["synthetic"], config["synthetic"][part]
    args = {
        "seed": p["seed"],
        "r": p["r"],
        "side": s["side"],
        "tries": s["tries"],
        "wrap": s["wrap"],
    }
    if part != "figure3":
        args["samples"] = p["samples"]
    args["zetas"] = p["zetas"]
    if part == "figure4":
        args["betas"] = [fmt(b) for b in p["betas"]]
    return cli_args(args)


def synthetic_targets():
    res = f"{RES}/synthetic"
    out = [f"{res}/figure4.csv", f"{res}/heatmap.csv", f"{res}/heatmap_helps.csv"]
    out += expand(
        f"{res}/figures/{{fig}}.{{ext}}",
        fig=["figure4", "figure3", "heatmap"],
        ext=["png", "pdf"],
    )
    return out
