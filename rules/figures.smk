# Stage 5: figures, one job per figure so that changing one figure's options reruns only it.


def figure_options(wc):
    d = DATASETS[wc.dataset]
    opts = dict(d["figures"][wc.figure])
    if wc.figure == "risk_curves":
        opts.update(window=d["analysis"]["savgol_window"], order=d["analysis"]["savgol_order"])
    return json.dumps(opts, sort_keys=True)


def figure_inputs(wc):
    if wc.figure == "certified":
        return [cert_path(wc.dataset, a, b, s) for a, b in certified_pairs(wc.dataset) for s in SEEDS[:1]]
    return [f"{RES}/{wc.dataset}/risk.csv"]


rule figure:
    input:
        figure_inputs,
    output:
        png=f"{RES}/{{dataset}}/figures/{{figure}}.png",
        pdf=f"{RES}/{{dataset}}/figures/{{figure}}.pdf",
    wildcard_constraints:
        figure="risk_curves|heatmap|certified",
    params:
        options=figure_options,
        source=lambda wc, input: ("--certs " if wc.figure == "certified" else "--risk ") + " ".join(input),
        stem=lambda wc, output: output.png[: -len(".png")],
    log:
        f"{RES}/logs/figures/{{dataset}}/{{figure}}.log",
    conda:
        "../envs/pipeline.yaml"
    shell:
        "python {SCRIPTS}/figures.py {wildcards.figure} {params.source} --options '{params.options}'"
        " --out {params.stem} > {log} 2>&1"
