# Shared by every stage: the validated config, the datasets and their grids, the path templates,
# the user's checkpoints and the scripts' code fingerprints. Each stage's own argument builders
# live in its rules/STAGE.smk as tables per dataset, filled in once when the workflow is read
# and looked up by short lambdas (`snakemake --lint` refuses a function definition in a file
# with rules); functions that several stages call stay here, job sizes in rules/resources.smk.
import os
import shlex
import sys

# The workflow imports (and fingerprints) the rsmooth package of its own checkout, whatever is
# installed: a clone in another folder plans from its own code, and the Snakefile runs where
# only snakemake is installed. Its jobs import the same package: see PYTHONPATH below.
sys.path.insert(0, workflow.basedir)

from rsmooth import jobs, provenance  # noqa: E402
from rsmooth.cli import as_args  # noqa: E402
from rsmooth.config import (  # noqa: E402
    ConfigError,
    fmt,
    given_models,
    grid,
    radius_pairs,
    validate_config,
)

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


# The workflow's own folders, for the shell to expand in the commands (see script above), and
# its package first on the jobs' PYTHONPATH: a job runs the rsmooth that CODE fingerprints, not
# another checkout that is installed (conda environments included: they keep PYTHONPATH).
os.environ.update(
    RSMOOTH_SCRIPTS=SCRIPTS,
    RSMOOTH_REFERENCE=f"{workflow.basedir}/reference",
    PYTHONPATH=os.pathsep.join(
        [workflow.basedir] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    ),
)


wildcard_constraints:
    dataset="(?!synthetic/)[A-Za-z0-9_-]+",
    alpha="[0-9]+(\\.[0-9]+)?",
    beta="[0-9]+(\\.[0-9]+)?",
    seed="[0-9]+",


def alphas(ds):
    return [fmt(a) for a in grid(DATASETS[ds]["alphas"])]


def betas(ds):
    return [fmt(b) for b in grid(DATASETS[ds]["betas"])]


def certified_pairs(ds):
    """The (alpha, beta) pairs whose certification draws radii (and that the
    certified-accuracy figure draws)."""
    return radius_pairs(DATASETS[ds])


def cli_args(options, skip=()):
    """A dict of options as shell-quoted command-line arguments (rsmooth.cli.as_args)."""
    return " ".join(as_args(options, skip))


def classifier_args(wc):
    """The base classifier of training and certification: --arch and the normalisation
    inside it (after the noise)."""
    d = DATASETS[wc.dataset]
    return f"--arch {shlex.quote(d['arch'])} {cli_args(d['normalize'] or {})}"


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
