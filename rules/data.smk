# Stage 1: fetch each dataset once (torchvision or .npz) and cache it as uint8 arrays.


rule prepare_data:
    output:
        f"{RES}/{{dataset}}/data.npz",
    params:
        script=f"{SCRIPTS}/prepare_data.py",
        args=lambda wc: cli_args(
            {
                "source": DATASETS[wc.dataset]["source"],
                "root": config["data_root"],
                "path": DATASETS[wc.dataset]["path"],
                "num_classes": DATASETS[wc.dataset]["num_classes"],
                "classes": " ".join(map(str, DATASETS[wc.dataset]["classes"] or [])) or None,
            }
        ),
    log:
        f"{RES}/logs/prepare_data/{{dataset}}.log",
    conda:
        "../envs/pipeline.yaml"
    shell:
        "python {params.script} {params.args} --out {output} > {log} 2>&1"
