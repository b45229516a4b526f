# Noise-augmented training for randomized smoothing (Pal & Sulam, TMLR 2023).
# Stages: data -> training per alpha -> certification per (alpha, beta) -> aggregation -> figures
# and the comparison with the paper's own table, plus the synthetic disks experiment.
# Config keys: config/README.md; outputs: docs/outputs.md.
from snakemake.logging import logger
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/resources.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/certify.smk"
include: "rules/aggregate.smk"
include: "rules/claims.smk"
include: "rules/compare.smk"
include: "rules/figures.smk"
include: "rules/synthetic.smk"


# Light jobs run in the snakemake process itself, also under a cluster profile (downloads need
# the login node's network; tables and figures take seconds).
localrules:
    all,
    config_used,
    prepare_data,
    aggregate,
    claims,
    compare,
    risk_curves,
    heatmap,
    alpha_star_figure,
    certified_figure,
    claims_figure,
    paper_comparison_figure,
    synthetic_examples,
    synthetic_aggregate,
    synthetic_figure,
    synthetic_figure3,


# The default target: the config record; per dataset its tables and figures, with the
# certified-accuracy figure where it draws radii and the comparison where it has a reference
# table (rules/compare.smk); and the synthetic experiment where it is enabled.
DEFAULT_TARGETS = [f"{RES}/config_used.yaml"]
for _ds in DATASETS:
    _tables = ["risk", "alpha_star", "claims"]
    _figures = ["risk_curves", "heatmap", "alpha_star", "claims"]
    _figures += ["certified"] if certified_pairs(_ds) else []
    if _ds in REFERENCE_ARG:
        _tables += ["paper_comparison", "paper_claims"]
        _figures += ["paper_comparison"]
    DEFAULT_TARGETS += [f"{RES}/{_ds}/{t}.csv" for t in _tables]
    DEFAULT_TARGETS += expand(
        f"{RES}/{_ds}/figures/{{fig}}.{{ext}}", fig=_figures, ext=["png", "pdf"]
    )
if config["synthetic"]["enabled"]:
    DEFAULT_TARGETS += SYNTHETIC_TARGETS


rule all:
    default_target: True
    input:
        DEFAULT_TARGETS,


onsuccess:
    logger.info(
        f"All results are under {RES}/. One self-contained HTML page with every figure, "
        f"its caption, the tables and the config used: "
        f"snakemake --report {shlex.quote(os.path.join(RES, 'report.html'))}"
    )
