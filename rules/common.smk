# Helpers shared by the rules: config validation, grids, paths, command-line arguments and
# provenance (the content fingerprints that make results follow their code and data).
import json
import os
import shlex
import sys

sys.path.insert(0, workflow.basedir)

from rsmooth import provenance, reference, sizing  # noqa: E402
from rsmooth.cli import as_args  # noqa: E402
from rsmooth.config import (  # noqa: E402
    ConfigError,
    fmt,
    given_models,
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


def user_files():
    """Checkpoints (datasets.NAME.models) and architectures (arch: module:function) of the
    user's, found and fingerprinted once, here in the main thread before any job: a missing
    file is refused now, and the digests (in params) rerun a job when a file's content
    changes, not when it is touched."""
    given, code = {}, {}
    for ds, d in DATASETS.items():
        given[ds] = given_models(ds, d, SEEDS)
        try:
            code[ds] = provenance.arch_fingerprint(d["arch"])
        except ValueError as e:
            raise ConfigError(
                f"config key datasets.{ds}.arch: {d['arch']}: {e}"
            ) from None
    md5 = {p: provenance.md5_file(p) for g in given.values() for p in g.values()}
    return given, code, md5


try:
    GIVEN, ARCH_CODE, GIVEN_MD5 = user_files()
except ConfigError as e:
    raise WorkflowError(str(e)) from None

# The content fingerprint of every script, computed once here, in the main thread, while the
# workflow is read: Snakemake evaluates each rule's shell expression again for every job, in
# its job threads, and fingerprinting parses Python source, which is not thread-safe
# (provenance.code_files refuses to run off the main thread).
CODE = provenance.code_fingerprints(SCRIPTS)


def script(stage, args):
    """The shell command that runs scripts/STAGE.py with ``args``, ending in a comment with
    the content fingerprint of that script and of the rsmooth modules it imports (looked up in
    CODE: no parsing here). Snakemake records each rule's command text (its "code" rerun
    trigger), so editing that code reruns exactly the jobs that run it and what depends on
    them, and `snakemake --list-changes code` lists their outputs; a touch, a checkout of the
    same content or a new clone in any folder changes nothing: the scripts' folder is not in
    that text but the shell variable $RSMOOTH_SCRIPTS, which the shell expands (the scripts
    themselves read no environment variable; Snakemake's linter refuses a global in the text).
    """
    return f'python "$RSMOOTH_SCRIPTS/{stage}.py" {args}  # code {CODE[stage]}'


# The workflow's own folders, for the shell to expand in the commands (see script above).
os.environ.update(
    RSMOOTH_SCRIPTS=SCRIPTS, RSMOOTH_REFERENCE=f"{workflow.basedir}/reference"
)


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
    """A dict of options as shell-quoted command-line arguments (rsmooth.cli.as_args)."""
    return " ".join(as_args(options, skip))


def quoted(paths):
    """Paths as one shell-quoted string of arguments."""
    return " ".join(shlex.quote(str(p)) for p in paths)


# Content fingerprint of the files data preparation reads for each dataset (raw MNIST,
# CIFAR-10 batches or .npz; published md5 sums for files not downloaded yet): read once here,
# not once per job.
DATA_DIGEST = {
    ds: provenance.data_fingerprint(d["source"], config["data_root"], d["path"])
    for ds, d in DATASETS.items()
}


def data_fingerprint(wc):
    return DATA_DIGEST[wc.dataset]


# The path patterns of models and certification tables, their one home: the rules' outputs
# and the helpers below fill in the same strings.
MODEL = f"{RES}/{{dataset}}/models/alpha{{alpha}}_seed{{seed}}"
CERT = f"{RES}/{{dataset}}/certify/alpha{{alpha}}_beta{{beta}}_seed{{seed}}"


def model_path(ds, alpha, seed):
    return MODEL.format(dataset=ds, alpha=alpha, seed=seed) + ".pt"


def cert_path(ds, alpha, beta, seed):
    return CERT.format(dataset=ds, alpha=alpha, beta=beta, seed=seed) + ".csv"


def all_certs(wc):
    """Every certification table of the dataset: all seeds, alphas and betas."""
    return [
        cert_path(wc.dataset, a, b, s)
        for s in SEEDS
        for a in alphas(wc.dataset)
        for b in betas(wc.dataset)
    ]


def model_file(wc):
    """The checkpoint of h_alpha: the user's (datasets.NAME.models) or the trained one."""
    given = GIVEN[wc.dataset].get((wc.alpha, wc.seed))
    return given or model_path(wc.dataset, wc.alpha, wc.seed)


def trained_model(wc):
    """Certification's model input: the trained checkpoint. None for the user's: they are no
    input (a touch would rerun) but params (their path and md5)."""
    return [] if GIVEN[wc.dataset] else model_path(wc.dataset, wc.alpha, wc.seed)


def all_metrics(wc):
    """The training metrics of every model; none for checkpoints of the user's."""
    if GIVEN[wc.dataset]:
        return []
    return [
        model_path(wc.dataset, a, s)[: -len(".pt")] + ".metrics.csv"
        for s in SEEDS
        for a in alphas(wc.dataset)
    ]


def classifier_args(wc):
    """The base classifier: --arch and the normalisation inside it (after the noise)."""
    d = DATASETS[wc.dataset]
    return f"--arch {shlex.quote(d['arch'])} {cli_args(d['normalize'] or {})}"


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

# The paper's tables ship in reference/; the compare rule's command names that folder by the
# shell variable $RSMOOTH_REFERENCE (as it names the scripts' folder), so the workflow's place
# is in no params: a new clone in another folder reruns nothing. params.digest (the table's
# content) reruns the rule after an edit.


def _reference(ds):
    d = DATASETS[ds]
    try:
        return reference.resolve(d["reference"], d["source"], d["classes"])
    except ValueError as e:
        raise WorkflowError(f"config key datasets.{ds}.reference: {e}") from None


# The reference table of each dataset (rsmooth/reference.py; None: no comparison) and the md5
# of its content, resolved and read once here, like the data digests, not once per job.
REFERENCE = {ds: _reference(ds) for ds in DATASETS}
REFERENCE_MD5 = {ds: provenance.md5_file(p) for ds, p in REFERENCE.items() if p}


def reference_table(ds):
    return REFERENCE[ds]


def reference_arg(wc):
    """The reference table for the script's --reference: the file's name in reference/ for
    the paper's, an absolute path for a table of the user's."""
    path = reference_table(wc.dataset)
    if path is None:
        raise WorkflowError(f"datasets.{wc.dataset}.reference is none: no comparison")
    if DATASETS[wc.dataset]["reference"] == reference.PAPER:
        return path.name
    return os.path.abspath(path)


def reference_digest(wc):
    return REFERENCE_MD5[wc.dataset]


# --- training (rules/train.smk) ---


def train_init(wc):
    if wc.alpha == "0" or not DATASETS[wc.dataset]["train"]["from_base"]:
        return []
    return model_path(wc.dataset, "0", wc.seed)


def train_args(wc):
    t = DATASETS[wc.dataset]["train"]
    recipe = t["base"] if wc.alpha == "0" else t["noisy"]
    return cli_args({**recipe, "common_noise": t["common_noise"]})


# --- cluster sizing (resources of train and certify; used by profiles/slurm) ---


def train_runtime(wc, attempt):
    return sizing.train_minutes(DATASETS[wc.dataset], wc.alpha == "0", attempt)


def certify_runtime(wc, attempt):
    radius = (wc.alpha, wc.beta) in certified_pairs(wc.dataset)
    return sizing.certify_minutes(DATASETS[wc.dataset], radius, attempt)


def job_mem_mb(wc):
    return DATASETS[wc.dataset]["cluster"]["mem_mb"]


# --- analysis and claims (rules/claims.smk) ---


def claims_args(wc):
    an = DATASETS[wc.dataset]["analysis"]
    args = {
        "dataset": wc.dataset,
        "savgol_window": an["savgol_window"],
        "savgol_order": an["savgol_order"],
        "contrast_delta": an["contrast_delta"],
        "n_boot": an["n_boot"],
        "level": an["level"],
        "rng_seed": derive_seed(an["bootstrap_seed"], "claims", wc.dataset),
    }
    return cli_args(args) + ("" if an["contrast_delta"] else " --no-contrast")


# --- figures (rules/figures.smk) ---


def figure_options(figure):
    """The options of one figure of a dataset (datasets.NAME.figures.FIGURE) as JSON."""
    return lambda wc: json.dumps(
        DATASETS[wc.dataset]["figures"].get(figure, {}), sort_keys=True
    )


def certified_certs(wc):
    """The certification tables with radii that the certified-accuracy figure draws (the
    first seed's)."""
    return [
        cert_path(wc.dataset, a, b, SEEDS[0]) for a, b in certified_pairs(wc.dataset)
    ]


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
