# Stage 5: figures, one rule per figure, so that changing one figure's options reruns only it.
# Each draws tables written by the stages before it (scripts/figures.py computes nothing), and
# no other stage draws: an edit of figure code (rsmooth/figures.py) reruns these jobs and the
# synthetic figures (rules/synthetic.smk), never an analysis.
import json

# The options of each figure of each dataset (datasets.NAME.figures.FIGURE), as JSON.
FIGURE_OPTIONS = {
    ds: {fig: json.dumps(opts, sort_keys=True) for fig, opts in d["figures"].items()}
    for ds, d in DATASETS.items()
}


rule risk_curves:
    input:
        curves=f"{RES}/{{dataset}}/curves.csv",
        seeds=f"{RES}/{{dataset}}/alpha_star_seeds.csv",
    output:
        png=report(
            f"{RES}/{{dataset}}/figures/risk_curves.png",
            caption="../report/figure.rst",
            category="{dataset}",
            labels={"figure": "risk_curves"},
        ),
        pdf=f"{RES}/{{dataset}}/figures/risk_curves.pdf",
    log:
        f"{RES}/logs/figures/{{dataset}}/risk_curves.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        options=lambda wc: FIGURE_OPTIONS[wc.dataset]["risk_curves"],
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "figures",
            "risk_curves --curves {input.curves:q} --alpha-star-seeds {input.seeds:q}"
            " --options {params.options:q} --out {params.stem:q} > {log:q} 2>&1",
        )


# The mean over seeds of risk_seeds.csv; risk.csv says which seeds.
rule heatmap:
    input:
        risk=f"{RES}/{{dataset}}/risk.csv",
        seeds=f"{RES}/{{dataset}}/risk_seeds.csv",
    output:
        png=report(
            f"{RES}/{{dataset}}/figures/heatmap.png",
            caption="../report/figure.rst",
            category="{dataset}",
            labels={"figure": "heatmap"},
        ),
        pdf=f"{RES}/{{dataset}}/figures/heatmap.pdf",
    log:
        f"{RES}/logs/figures/{{dataset}}/heatmap.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        options=lambda wc: FIGURE_OPTIONS[wc.dataset]["heatmap"],
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "figures",
            "heatmap --risk {input.risk:q} --risk-seeds {input.seeds:q}"
            " --options {params.options:q} --out {params.stem:q} > {log:q} 2>&1",
        )


rule alpha_star_figure:
    input:
        table=f"{RES}/{{dataset}}/alpha_star.csv",
        seeds=f"{RES}/{{dataset}}/alpha_star_seeds.csv",
    output:
        png=report(
            f"{RES}/{{dataset}}/figures/alpha_star.png",
            caption="../report/figure.rst",
            category="{dataset}",
            labels={"figure": "alpha_star"},
        ),
        pdf=f"{RES}/{{dataset}}/figures/alpha_star.pdf",
    log:
        f"{RES}/logs/figures/{{dataset}}/alpha_star.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "figures",
            "alpha_star --alpha-star {input.table:q} --alpha-star-seeds {input.seeds:q}"
            " --out {params.stem:q} > {log:q} 2>&1",
        )


# The certified accuracy of the pairs with radii (certified.csv: every pair and seed), in the
# first seed.
rule certified_figure:
    input:
        f"{RES}/{{dataset}}/certified.csv",
    output:
        png=report(
            f"{RES}/{{dataset}}/figures/certified.png",
            caption="../report/figure.rst",
            category="{dataset}",
            labels={"figure": "certified"},
        ),
        pdf=f"{RES}/{{dataset}}/figures/certified.pdf",
    log:
        f"{RES}/logs/figures/{{dataset}}/certified.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        options=lambda wc: FIGURE_OPTIONS[wc.dataset]["certified"],
        seed=SEEDS[0],
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "figures",
            "certified --certified {input:q} --seed {params.seed}"
            " --options {params.options:q} --out {params.stem:q} > {log:q} 2>&1",
        )


# The claims' forest plot (rules/claims.smk writes the table).
rule claims_figure:
    input:
        f"{RES}/{{dataset}}/claims.csv",
    output:
        png=report(
            f"{RES}/{{dataset}}/figures/claims.png",
            caption="../report/claims.rst",
            category="{dataset}",
            labels={"figure": "claims"},
        ),
        pdf=f"{RES}/{{dataset}}/figures/claims.pdf",
    log:
        f"{RES}/logs/figures/{{dataset}}/claims.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "figures",
            "claims --claims {input:q} --dataset {wildcards.dataset}"
            " --out {params.stem:q} > {log:q} 2>&1",
        )


# This pipeline beside the paper's table (rules/compare.smk writes the comparison). The
# reference table is named as the compare rule names it: by $RSMOOTH_REFERENCE and its digest.
rule paper_comparison_figure:
    input:
        comparison=f"{RES}/{{dataset}}/paper_comparison.csv",
        risk=f"{RES}/{{dataset}}/risk.csv",
        seeds=f"{RES}/{{dataset}}/risk_seeds.csv",
    output:
        png=report(
            f"{RES}/{{dataset}}/figures/paper_comparison.png",
            caption="../report/compare.rst",
            category="{dataset}",
            labels={"figure": "paper_comparison"},
        ),
        pdf=f"{RES}/{{dataset}}/figures/paper_comparison.pdf",
    log:
        f"{RES}/logs/figures/{{dataset}}/paper_comparison.log",
    wildcard_constraints:
        dataset="|".join(REFERENCE_ARG) or "(?!)",  # the datasets with a reference table
    conda:
        "../envs/pipeline.yaml"
    params:
        table=lambda wc: REFERENCE_ARG[wc.dataset],
        digest=lambda wc: REFERENCE_MD5[wc.dataset],
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "figures",
            'paper_comparison --reference-dir "$RSMOOTH_REFERENCE" --reference {params.table:q}'
            " --comparison {input.comparison:q} --risk {input.risk:q} --risk-seeds {input.seeds:q}"
            " --dataset {wildcards.dataset} --out {params.stem:q} > {log:q} 2>&1",
        )
