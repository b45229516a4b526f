# Stage 2: one base classifier per (alpha, seed). alpha = 0 is h_0, trained without noise;
# alpha > 0 fine-tunes h_0 on x + N(0, alpha^2 I) (or trains from scratch: train.from_base).


rule train:
    input:
        data=f"{RES}/{{dataset}}/data.npz",
        init=train_init,
    output:
        model=f"{RES}/{{dataset}}/models/alpha{{alpha}}_seed{{seed}}.pt",
        metrics=f"{RES}/{{dataset}}/models/alpha{{alpha}}_seed{{seed}}.metrics.csv",
    params:
        script=f"{SCRIPTS}/train.py",
        args=train_args,
        arch=lambda wc: DATASETS[wc.dataset]["arch"],
        init=lambda wc, input: f"--init {input.init}" if input.init else "",
        device=config["device"],
        checkpoint=lambda wc: f"{RES}/{wc.dataset}/models/.alpha{wc.alpha}_seed{wc.seed}.ckpt",
    threads: lambda wc: job_threads()
    resources:
        runtime=train_runtime,
        mem_mb=job_mem_mb,
    log:
        f"{RES}/logs/train/{{dataset}}/alpha{{alpha}}_seed{{seed}}.log",
    benchmark:
        f"{RES}/benchmarks/train/{{dataset}}/alpha{{alpha}}_seed{{seed}}.tsv"
    conda:
        "../envs/pipeline.yaml"
    shell:
        "python {params.script} --data {input.data} --arch {params.arch} --alpha {wildcards.alpha}"
        " --seed {wildcards.seed} {params.init} {params.args} --device {params.device}"
        " --threads {threads} --checkpoint {params.checkpoint}"
        " --out {output.model} --metrics {output.metrics} > {log} 2>&1"
