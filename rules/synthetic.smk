# The synthetic disks experiment (the paper's Section 5): sample every image of a set in one
# job (the draw order couples them), exact risk curves per (set, beta), one tidy CSV per set
# with the mean of each cell and where noise helped (rsmooth/synthetic.py), the disks of
# Figure 3, and the figures, which draw those tables (scripts/figures.py; the jobs that sample
# and aggregate draw nothing, so an edit of figure code reruns only the figures). Sets: figure4
# (the paper's) and heatmap (a finer alpha x beta grid).
SYN = config["synthetic"]

# The noise levels of each set as file-name strings.
SYNTHETIC_GRID = {
    part: {
        axis: [fmt(v) for v in grid(SYN[part][axis])] for axis in ("alphas", "betas")
    }
    for part in ("figure4", "heatmap")
}

# The sampling options of each set and of Figure 3, as options of scripts/synthetic.py.
SYNTHETIC_ARGS = {
    part: cli_args(
        {
            "seed": SYN[part]["seed"],
            "r": SYN[part]["r"],
            "side": SYN["side"],
            "tries": SYN["tries"],
            "wrap": SYN["wrap"],
            **({} if part == "figure3" else {"samples": SYN[part]["samples"]}),
            "zetas": SYN[part]["zetas"],
            **(
                {"betas": [fmt(b) for b in SYN[part]["betas"]]}
                if part == "figure4"
                else {}
            ),
        }
    )
    for part in ("figure4", "heatmap", "figure3")
}

# The figure of each set, as the kind of scripts/figures.py that draws it.
SYNTHETIC_FIGURE = {"figure4": "figure4", "heatmap": "synthetic_heatmap"}

# The synthetic part of the default target (when synthetic.enabled).
SYNTHETIC_TARGETS = [
    f"{RES}/synthetic/{name}.csv" for name in ("figure4", "heatmap", "heatmap_helps")
] + expand(
    f"{RES}/synthetic/figures/{{fig}}.{{ext}}",
    fig=["figure4", "figure3", "heatmap"],
    ext=["png", "pdf"],
)


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
        args=lambda wc: SYNTHETIC_ARGS[wc.set],
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
        alphas=lambda wc: " ".join(SYNTHETIC_GRID[wc.set]["alphas"]),
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
            beta=SYNTHETIC_GRID[wc.set]["betas"],
        ),
    output:
        curves=f"{RES}/synthetic/{{set}}.csv",
        means=f"{RES}/synthetic/{{set}}_means.csv",
        helps=f"{RES}/synthetic/{{set}}_helps.csv",
    log:
        f"{RES}/logs/synthetic/{{set}}_aggregate.log",
    wildcard_constraints:
        set="figure4|heatmap",
    conda:
        "../envs/pipeline.yaml"
    params:
        args=lambda wc: (
            "--window {savgol_window} --order {savgol_order}".format(**SYN["figure4"])
            if wc.set == "figure4"
            else ""
        ),
    shell:
        script(
            "synthetic",
            "aggregate --curves {input:q} {params.args} --out {output.curves:q}"
            " --means {output.means:q} --helps {output.helps:q} > {log:q} 2>&1",
        )


# Figure 4 and the regime heatmap, from the set's cell means.
rule synthetic_figure:
    input:
        f"{RES}/synthetic/{{set}}_means.csv",
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
        kind=lambda wc: SYNTHETIC_FIGURE[wc.set],
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "figures",
            "{params.kind} --synthetic {input:q} --out {params.stem:q} > {log:q} 2>&1",
        )


# The disks of Figure 3: one image per gap.
rule synthetic_examples:
    output:
        f"{RES}/synthetic/figure3.csv",
    log:
        f"{RES}/logs/synthetic/figure3_examples.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        args=SYNTHETIC_ARGS["figure3"],
    shell:
        script(
            "synthetic",
            "examples {params.args} --out {output:q} > {log:q} 2>&1",
        )


rule synthetic_figure3:
    input:
        f"{RES}/synthetic/figure3.csv",
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
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "figures",
            "figure3 --disks {input:q} --out {params.stem:q} > {log:q} 2>&1",
        )
