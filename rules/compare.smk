# Stage 4c: this pipeline beside the paper's own published table (reference/, or the dataset's
# `reference` key): risks cell by cell, alpha*(beta) and the headline risks of both sides, and
# the paper's claims replayed on its counts (rsmooth/reference.py). Only for datasets with a
# reference table (rules/common.smk, dataset_targets).


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
        png=report(
            f"{RES}/{{dataset}}/figures/paper_comparison.png",
            caption="../report/compare.rst",
            category="{dataset}",
            labels={"figure": "paper_comparison"},
        ),
        pdf=f"{RES}/{{dataset}}/figures/paper_comparison.pdf",
    log:
        f"{RES}/logs/compare/{{dataset}}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        table=reference_arg,
        digest=reference_digest,
        args=claims_args,  # the same analysis options as the claims of our own data
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "compare",
            '--reference-dir "$RSMOOTH_REFERENCE" --reference {params.table:q} --risk {input.risk:q} --alpha-star {input.alpha_star:q}'
            " {params.args} --out {output.table:q} --claims {output.claims:q}"
            " --figure {params.stem:q} > {log:q} 2>&1",
        )
