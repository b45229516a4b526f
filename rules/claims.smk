# Stage 4b: the one analysis of the error cube (rsmooth/claims.py): alpha*(beta) with its
# interval and the fitted risk curves, and the paper's claims decided with intervals that
# survive picking alpha*: C1 the risk of h_0 grows with beta, C2 alpha*(beta) grows with beta,
# C3 training at alpha = beta is beaten by a smaller alpha (a contrast fixed in the config, and
# the cross-fitted gap). It draws nothing: the figure rules (rules/figures.smk: claims_figure,
# alpha_star_figure, risk_curves) draw these tables, so an edit of figure code reruns no analysis.
# The analysis options of each dataset, as options of scripts/claims.py (rsmooth/jobs.py, which
# the tests use too).
CLAIMS_ARGS = {ds: cli_args(jobs.claims(d, ds)) for ds, d in DATASETS.items()}


rule claims:
    input:
        all_certs,
    output:
        table=report(
            f"{RES}/{{dataset}}/claims.csv",
            caption="../report/claims.rst",
            category="{dataset}",
            labels={"table": "claims"},
        ),
        alpha_star=report(
            f"{RES}/{{dataset}}/alpha_star.csv",
            caption="../report/table.rst",
            category="{dataset}",
            labels={"table": "alpha_star"},
        ),
        star_seeds=report(
            f"{RES}/{{dataset}}/alpha_star_seeds.csv",
            caption="../report/seeds.rst",
            category="{dataset}",
            labels={"table": "alpha_star across seeds"},
        ),
        curves=f"{RES}/{{dataset}}/curves.csv",
    log:
        f"{RES}/logs/claims/{{dataset}}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        args=lambda wc: CLAIMS_ARGS[wc.dataset],
    shell:
        script(
            "claims",
            "--certs {input:q} {params.args} --out {output.table:q}"
            " --alpha-star {output.alpha_star:q} --alpha-star-seeds {output.star_seeds:q}"
            " --curves {output.curves:q} > {log:q} 2>&1",
        )
