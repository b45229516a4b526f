# Stage 5: figures, one rule per figure, so that changing one figure's options reruns only it.
# Each draws tables written by the stages before it (scripts/figures.py computes nothing).
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


rule heatmap:
    input:
        f"{RES}/{{dataset}}/risk.csv",
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
            "heatmap --risk {input:q}"
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


# The certified accuracy of the pairs with radii, in the first seed.
rule certified_figure:
    input:
        lambda wc: [
            cert_path(wc.dataset, a, b, SEEDS[0])
            for a, b in certified_pairs(wc.dataset)
        ],
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
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "figures",
            "certified --certs {input:q}"
            " --options {params.options:q} --out {params.stem:q} > {log:q} 2>&1",
        )
