# Stage 3: smoothed predictions and certified radii per (alpha, beta, seed).


rule certify:
    input:
        data=f"{RES}/{{dataset}}/data.npz",
        model=f"{RES}/{{dataset}}/models/alpha{{alpha}}_seed{{seed}}.pt",
    output:
        f"{RES}/{{dataset}}/certify/alpha{{alpha}}_beta{{beta}}_seed{{seed}}.csv",
    params:
        args=certify_args,
        arch=lambda wc: DATASETS[wc.dataset]["arch"],
        device=config["device"],
    threads: job_threads()
    resources:
        gpu=lambda wc: 1 if config["device"] != "cpu" else 0,
    log:
        f"{RES}/logs/certify/{{dataset}}/alpha{{alpha}}_beta{{beta}}_seed{{seed}}.log",
    benchmark:
        f"{RES}/benchmarks/certify/{{dataset}}/alpha{{alpha}}_beta{{beta}}_seed{{seed}}.tsv"
    conda:
        "../envs/pipeline.yaml"
    shell:
        "python {SCRIPTS}/certify.py --model {input.model} --data {input.data} --arch {params.arch}"
        " --alpha {wildcards.alpha} --beta {wildcards.beta} --seed {wildcards.seed} {params.args}"
        " --device {params.device} --threads {threads} --out {output} > {log} 2>&1"
