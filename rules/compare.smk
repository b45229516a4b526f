# Stage 4c: this pipeline beside the paper's own published table (reference/, or the dataset's
# `reference` key): risks cell by cell, each with the ratio ours / paper and a fidelity verdict
# against analysis.fidelity_ratio; alpha*(beta) of both sides, the paper's against our alpha*
# confidence set; the headline risks of both sides; and the paper's claims replayed on
# its counts (rsmooth/reference.py). Only for datasets with a reference table (the default
# target in the Snakefile). It draws nothing: paper_comparison_figure (rules/figures.smk) draws
# the comparison table, so an edit of figure code reruns no comparison.
#
# The paper's tables ship in reference/; the command names that folder by the shell variable
# $RSMOOTH_REFERENCE (as it names the scripts' folder), so the workflow's place is in no params:
# a new clone in another folder reruns nothing. params.digest (the table's content) reruns the
# rule after an edit. Each table is loaded and checked here, when the workflow is read: a
# malformed one (a missing column, a value that is not a number, errors / risk not one test-image
# count, ...) is refused in one line naming its config key before any job runs. So is a
# tolerance of the fidelity verdicts (analysis.fidelity_ratio) that is not 0 < low < 1 < high.
from rsmooth import reference

# The reference table of each dataset (None: no comparison), resolved once here, like the data
# digests, not once per job; then, for the datasets that have one, the table as the script's
# --reference (the file's name in reference/ for the paper's, an absolute path for a table of
# the user's) and the md5 of its content.
REFERENCE = {}
for _ds, _d in DATASETS.items():
    try:
        REFERENCE[_ds] = reference.resolve(_d["reference"], _d["source"], _d["classes"])
        if REFERENCE[_ds]:
            reference.load_reference(REFERENCE[_ds])
    except ValueError as e:
        raise WorkflowError(f"config key datasets.{_ds}.reference: {e}") from None
REFERENCE_ARG = {
    ds: p.name if DATASETS[ds]["reference"] == reference.PAPER else os.path.abspath(p)
    for ds, p in REFERENCE.items()
    if p
}
REFERENCE_MD5 = {ds: provenance.md5_file(p) for ds, p in REFERENCE.items() if p}
# The tolerance of the fidelity verdicts, fixed before the run, checked here; the options of
# scripts/compare.py: the claims' settings and that tolerance (rsmooth/jobs.py).
for _ds in REFERENCE_ARG:
    try:
        reference.fidelity_band(DATASETS[_ds]["analysis"]["fidelity_ratio"])
    except ValueError as e:
        raise WorkflowError(
            f"config key datasets.{_ds}.analysis.fidelity_ratio: {e}"
        ) from None
COMPARE_ARGS = {ds: cli_args(jobs.compare(DATASETS[ds], ds)) for ds in REFERENCE_ARG}


rule compare:
    input:
        risk=f"{RES}/{{dataset}}/risk.csv",
        alpha_star=f"{RES}/{{dataset}}/alpha_star.csv",
    output:
        table=report(
            f"{RES}/{{dataset}}/paper_comparison.csv",
            caption="../report/compare.rst",
            category="{dataset}",
            labels={"table": "paper comparison"},
        ),
        claims=report(
            f"{RES}/{{dataset}}/paper_claims.csv",
            caption="../report/compare.rst",
            category="{dataset}",
            labels={"table": "paper claims"},
        ),
    log:
        f"{RES}/logs/compare/{{dataset}}.log",
    wildcard_constraints:
        dataset="|".join(REFERENCE_ARG) or "(?!)",  # the datasets with a reference table
    conda:
        "../envs/pipeline.yaml"
    params:
        table=lambda wc: REFERENCE_ARG[wc.dataset],
        digest=lambda wc: REFERENCE_MD5[wc.dataset],
        args=lambda wc: COMPARE_ARGS[wc.dataset],
    shell:
        script(
            "compare",
            '--reference-dir "$RSMOOTH_REFERENCE" --reference {params.table:q} --risk {input.risk:q} --alpha-star {input.alpha_star:q}'
            " {params.args} --out {output.table:q} --claims {output.claims:q}"
            " > {log:q} 2>&1",
        )
