# Stage 4: the tidy risk table and the alpha*(beta) table of each dataset.


rule aggregate:
    input:
        certs=lambda wc: [
            cert_path(wc.dataset, a, b, s)
            for s in SEEDS
            for a in alphas(wc.dataset)
            for b in betas(wc.dataset)
        ],
        metrics=lambda wc: [
            f"{RES}/{wc.dataset}/models/alpha{a}_seed{s}.metrics.csv"
            for s in SEEDS
            for a in alphas(wc.dataset)
        ],
    output:
        risk=f"{RES}/{{dataset}}/risk.csv",
        alpha_star=f"{RES}/{{dataset}}/alpha_star.csv",
    params:
        script=f"{SCRIPTS}/aggregate.py",
        radii=lambda wc: " ".join(map(str, DATASETS[wc.dataset]["analysis"]["radii"])),
        window=lambda wc: DATASETS[wc.dataset]["analysis"]["savgol_window"],
        order=lambda wc: DATASETS[wc.dataset]["analysis"]["savgol_order"],
    log:
        f"{RES}/logs/aggregate/{{dataset}}.log",
    conda:
        "../envs/pipeline.yaml"
    shell:
        "python {params.script} --dataset {wildcards.dataset} --certs {input.certs}"
        " --metrics {input.metrics} --radii {params.radii} --savgol-window {params.window}"
        " --savgol-order {params.order} --risk {output.risk} --alpha-star {output.alpha_star}"
        " > {log} 2>&1"
