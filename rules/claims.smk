# Stage 4b: the paper's claims decided with intervals that survive picking alpha*: C1 the risk
# of h_0 grows with beta, C2 alpha*(beta) grows with beta, C3 training at alpha = beta costs
# risk (rsmooth/claims.py). One table and one forest plot per dataset.


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
        png=report(
            f"{RES}/{{dataset}}/figures/claims.png",
            caption="../report/claims.rst",
            category="{dataset}",
            labels={"figure": "claims"},
        ),
        pdf=f"{RES}/{{dataset}}/figures/claims.pdf",
    log:
        f"{RES}/logs/claims/{{dataset}}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        args=lambda wc: cli_args(
            {
                "dataset": wc.dataset,
                "savgol_window": DATASETS[wc.dataset]["analysis"]["savgol_window"],
                "savgol_order": DATASETS[wc.dataset]["analysis"]["savgol_order"],
                "n_boot": DATASETS[wc.dataset]["analysis"]["n_boot"],
                "level": DATASETS[wc.dataset]["analysis"]["level"],
                "rng_seed": derive_seed(
                    DATASETS[wc.dataset]["analysis"]["bootstrap_seed"],
                    "claims",
                    wc.dataset,
                ),
            }
        ),
        stem=lambda wc, output: output.png[: -len(".png")],
    shell:
        script(
            "claims",
            "--certs {input:q} {params.args} --out {output.table:q} --figure {params.stem:q}"
            " > {log:q} 2>&1",
        )
