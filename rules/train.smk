# Stage 2: one base classifier per (alpha, seed). alpha = 0 is h_0, trained without noise;
# alpha > 0 fine-tunes h_0 on x + N(0, alpha^2 I) (or trains from scratch: train.from_base).
# The metrics table records the environment (versions, device, CPU ISA, threads) with the
# accuracy; torch uses threads_per_job threads whatever --cores is (rules/resources.smk).

# The recipe of each dataset's models as options of scripts/train.py (rsmooth/jobs.py):
# train.base for h_0, train.noisy for every h_alpha.
TRAIN_ARGS = {
    ds: {recipe: cli_args(jobs.train(d, recipe)) for recipe in ("base", "noisy")}
    for ds, d in DATASETS.items()
}


rule train:
    input:
        data=f"{RES}/{{dataset}}/data.npz",
        init=lambda wc: (
            model_path(wc.dataset, "0", wc.seed)
            if wc.alpha != "0" and DATASETS[wc.dataset]["train"]["from_base"]
            else []
        ),
    output:
        model=f"{MODEL}.pt",
        metrics=f"{MODEL}.metrics.csv",
    log:
        f"{RES}/logs/train/{{dataset}}/alpha{{alpha}}_seed{{seed}}.log",
    benchmark:
        f"{RES}/benchmarks/train/{{dataset}}/alpha{{alpha}}_seed{{seed}}.tsv"
    # trainings first: they are the longest jobs and every certification waits on one, so the
    # two cores are not left with one long training at the end
    priority: 1
    conda:
        "../envs/pipeline.yaml"
    threads: lambda wc: job_threads()
    resources:
        runtime=train_runtime,
        mem_mb=job_mem_mb,
    params:
        args=lambda wc: TRAIN_ARGS[wc.dataset]["base" if wc.alpha == "0" else "noisy"],
        classifier=classifier_args,
        arch_code=lambda wc: ARCH_CODE[wc.dataset],
        init=lambda wc, input: (
            f"--init {shlex.quote(str(input.init))}" if input.init else ""
        ),
        device=config["device"],
        torch_threads=torch_threads(),
        checkpoint=lambda wc: f"{RES}/{wc.dataset}/models/.alpha{wc.alpha}_seed{wc.seed}.ckpt",
    shell:
        script(
            "train",
            "--data {input.data:q} {params.classifier}"
            " --alpha {wildcards.alpha} --seed {wildcards.seed} {params.init} {params.args}"
            " --device {params.device:q} --threads {params.torch_threads}"
            " --checkpoint {params.checkpoint:q} --out {output.model:q}"
            " --metrics {output.metrics:q} > {log:q} 2>&1",
        )
