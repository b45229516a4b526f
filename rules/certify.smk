# Stage 3: smoothed predictions and certified radii per (alpha, beta, seed).


rule certify:
    input:
        data=f"{RES}/{{dataset}}/data.npz",
        model=f"{RES}/{{dataset}}/models/alpha{{alpha}}_seed{{seed}}.pt",
    output:
        f"{RES}/{{dataset}}/certify/alpha{{alpha}}_beta{{beta}}_seed{{seed}}.csv",
    params:
        script=f"{SCRIPTS}/certify.py",
        args=certify_args,
        arch=lambda wc: DATASETS[wc.dataset]["arch"],
        device=config["device"],
    threads: lambda wc: job_threads()
    resources:
        runtime=certify_runtime,
        mem_mb=job_mem_mb,
    log:
        f"{RES}/logs/certify/{{dataset}}/alpha{{alpha}}_beta{{beta}}_seed{{seed}}.log",
    benchmark:
        f"{RES}/benchmarks/certify/{{dataset}}/alpha{{alpha}}_beta{{beta}}_seed{{seed}}.tsv"
    conda:
        "../envs/pipeline.yaml"
    shell:
        "python {params.script} --model {input.model} --data {input.data} --arch {params.arch}"
        " --alpha {wildcards.alpha} --beta {wildcards.beta} --seed {wildcards.seed} {params.args}"
        " --device {params.device} --threads {threads} --out {output} > {log} 2>&1"
