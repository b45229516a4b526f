# Stage 2: one base classifier per (alpha, seed). alpha = 0 is h_0, trained without noise;
# alpha > 0 fine-tunes h_0 on x + N(0, alpha^2 I) (or trains from scratch: train.from_base).


def train_init(wc):
    if wc.alpha == "0" or not DATASETS[wc.dataset]["train"]["from_base"]:
        return []
    return model_path(wc.dataset, "0", wc.seed)


def train_args(wc):
    t = DATASETS[wc.dataset]["train"]
    return cli_args(t["base"] if wc.alpha == "0" else t["noisy"])


rule train:
    input:
        data=f"{RES}/{{dataset}}/data.npz",
        init=train_init,
    output:
        model=f"{RES}/{{dataset}}/models/alpha{{alpha}}_seed{{seed}}.pt",
        metrics=f"{RES}/{{dataset}}/models/alpha{{alpha}}_seed{{seed}}.metrics.csv",
    params:
        args=train_args,
        arch=lambda wc: DATASETS[wc.dataset]["arch"],
        init=lambda wc, input: f"--init {input.init}" if input.init else "",
        device=config["device"],
        checkpoint=lambda wc: f"{RES}/{wc.dataset}/models/.alpha{wc.alpha}_seed{wc.seed}.ckpt",
    threads: job_threads()
    resources:
        gpu=lambda wc: 1 if config["device"] != "cpu" else 0,
    log:
        f"{RES}/logs/train/{{dataset}}/alpha{{alpha}}_seed{{seed}}.log",
    benchmark:
        f"{RES}/benchmarks/train/{{dataset}}/alpha{{alpha}}_seed{{seed}}.tsv"
    conda:
        "../envs/pipeline.yaml"
    shell:
        "python {SCRIPTS}/train.py --data {input.data} --arch {params.arch} --alpha {wildcards.alpha}"
        " --seed {wildcards.seed} {params.init} {params.args} --device {params.device}"
        " --threads {threads} --checkpoint {params.checkpoint}"
        " --out {output.model} --metrics {output.metrics} > {log} 2>&1"
