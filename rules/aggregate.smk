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
        risk=report(
            f"{RES}/{{dataset}}/risk.csv",
            caption="../report/table.rst",
            category="{dataset}",
            labels={"table": "risk"},
        ),
        alpha_star=report(
            f"{RES}/{{dataset}}/alpha_star.csv",
            caption="../report/table.rst",
            category="{dataset}",
            labels={"table": "alpha_star"},
        ),
        seeds=report(
            f"{RES}/{{dataset}}/risk_seeds.csv",
            caption="../report/seeds.rst",
            category="{dataset}",
            labels={"table": "risk across seeds"},
        ),
        star_seeds=report(
            f"{RES}/{{dataset}}/alpha_star_seeds.csv",
            caption="../report/seeds.rst",
            category="{dataset}",
            labels={"table": "alpha_star across seeds"},
        ),
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
        " --seeds-summary {output.seeds} --alpha-star-summary {output.star_seeds}"
        " > {log} 2>&1"


rule config_used:
    output:
        report(f"{RES}/config_used.yaml", caption="../report/table.rst", category="config"),
    params:
        script=f"{SCRIPTS}/write_config.py",
        config=lambda wc: json.dumps(config, sort_keys=True),
    log:
        f"{RES}/logs/config_used.log",
    conda:
        "../envs/pipeline.yaml"
    shell:
        "python {params.script} --config {params.config:q} --out {output} > {log} 2>&1"
