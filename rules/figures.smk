# Stage 5: figures, one job per figure so that changing one figure's options reruns only it.


rule figure:
    input:
        unpack(figure_inputs),
    output:
        png=report(
            f"{RES}/{{dataset}}/figures/{{figure}}.png",
            caption="../report/figure.rst",
            category="{dataset}",
            labels={"figure": "{figure}"},
        ),
        pdf=f"{RES}/{{dataset}}/figures/{{figure}}.pdf",
    log:
        f"{RES}/logs/figures/{{dataset}}/{{figure}}.log",
    wildcard_constraints:
        figure="risk_curves|heatmap|certified|alpha_star",
    conda:
        "../envs/pipeline.yaml"
    params:
        options=figure_options,
        source=figure_source,
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "figures",
            "{wildcards.figure} {params.source}"
            " --options {params.options:q} --out {params.stem:q} > {log:q} 2>&1",
        )
