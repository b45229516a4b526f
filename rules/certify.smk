# Stage 3: smoothed predictions and certified radii per (alpha, beta, seed), and a one-row
# sidecar with the environment that computed them (versions, device, CPU ISA, threads).


rule certify:
    input:
        data=f"{RES}/{{dataset}}/data.npz",
        model=f"{RES}/{{dataset}}/models/alpha{{alpha}}_seed{{seed}}.pt",
    output:
        table=f"{RES}/{{dataset}}/certify/alpha{{alpha}}_beta{{beta}}_seed{{seed}}.csv",
        env=f"{RES}/{{dataset}}/certify/alpha{{alpha}}_beta{{beta}}_seed{{seed}}.env.csv",
    log:
        f"{RES}/logs/certify/{{dataset}}/alpha{{alpha}}_beta{{beta}}_seed{{seed}}.log",
    benchmark:
        f"{RES}/benchmarks/certify/{{dataset}}/alpha{{alpha}}_beta{{beta}}_seed{{seed}}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: lambda wc: job_threads()
    resources:
        runtime=certify_runtime,
        mem_mb=job_mem_mb,
    params:
        args=certify_args,
        arch=lambda wc: DATASETS[wc.dataset]["arch"],
        device=config["device"],
        torch_threads=torch_threads(),
    shell:
        script(
            "certify",
            "--model {input.model:q} --data {input.data:q}"
            " --arch {params.arch} --alpha {wildcards.alpha} --beta {wildcards.beta}"
            " --seed {wildcards.seed} {params.args} --device {params.device:q}"
            " --threads {params.torch_threads} --out {output.table:q} --env {output.env:q}"
            " > {log:q} 2>&1",
        )
