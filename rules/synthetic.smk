# The synthetic disks experiment (the paper's Section 5): sample every image of a set in one
# job (the draw order couples them), exact risk curves per (set, beta), one tidy CSV per set,
# and the figures. Sets: figure4 (the paper's) and heatmap (a finer alpha x beta grid).


rule synthetic_sample:
    output:
        f"{RES}/synthetic/{{set}}/images.npz",
    log:
        f"{RES}/logs/synthetic/{{set}}_sample.log",
    wildcard_constraints:
        set="figure4|heatmap",
    conda:
        "../envs/pipeline.yaml"
    params:
        args=synthetic_sample_args,
    shell:
        script(
            "synthetic",
            "sample {params.args} --out {output:q} > {log:q} 2>&1",
        )


rule synthetic_curves:
    input:
        f"{RES}/synthetic/{{set}}/images.npz",
    output:
        f"{RES}/synthetic/{{set}}/curves/beta{{beta}}.csv",
    log:
        f"{RES}/logs/synthetic/{{set}}_curves_beta{{beta}}.log",
    wildcard_constraints:
        set="figure4|heatmap",
    conda:
        "../envs/pipeline.yaml"
    params:
        alphas=lambda wc: " ".join(synthetic_grid(wc.set, "alphas")),
    shell:
        script(
            "synthetic",
            "curves --images {input:q} --beta {wildcards.beta}"
            " --alphas {params.alphas} --out {output:q} > {log:q} 2>&1",
        )


rule synthetic_aggregate:
    input:
        lambda wc: expand(
            f"{RES}/synthetic/{wc.set}/curves/beta{{beta}}.csv",
            beta=synthetic_grid(wc.set, "betas"),
        ),
    output:
        curves=f"{RES}/synthetic/{{set}}.csv",
        helps=f"{RES}/synthetic/{{set}}_helps.csv",
    log:
        f"{RES}/logs/synthetic/{{set}}_aggregate.log",
    wildcard_constraints:
        set="figure4|heatmap",
    conda:
        "../envs/pipeline.yaml"
    params:
        args=lambda wc: (
            "--window {savgol_window} --order {savgol_order}".format(
                **config["synthetic"]["figure4"]
            )
            if wc.set == "figure4"
            else ""
        ),
    shell:
        script(
            "synthetic",
            "aggregate --curves {input:q} {params.args} --out {output.curves:q}"
            " --helps {output.helps:q} > {log:q} 2>&1",
        )


rule synthetic_figure:
    input:
        f"{RES}/synthetic/{{set}}.csv",
    output:
        png=report(
            f"{RES}/synthetic/figures/{{set}}.png",
            caption="../report/synthetic.rst",
            category="synthetic",
            labels={"figure": "{set}"},
        ),
        pdf=f"{RES}/synthetic/figures/{{set}}.pdf",
    log:
        f"{RES}/logs/synthetic/{{set}}_figure.log",
    wildcard_constraints:
        set="figure4|heatmap",
    conda:
        "../envs/pipeline.yaml"
    params:
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "synthetic",
            "{wildcards.set} --curves {input:q}"
            " --out {params.stem:q} > {log:q} 2>&1",
        )


rule synthetic_figure3:
    output:
        png=report(
            f"{RES}/synthetic/figures/figure3.png",
            caption="../report/figure3.rst",
            category="synthetic",
            labels={"figure": "figure3"},
        ),
        pdf=f"{RES}/synthetic/figures/figure3.pdf",
    log:
        f"{RES}/logs/synthetic/figure3.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        args=lambda wc: synthetic_sample_args("figure3"),
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "synthetic",
            "figure3 {params.args} --out {params.stem:q} > {log:q} 2>&1",
        )
