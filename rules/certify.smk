# Stage 3: smoothed predictions and certified radii per (alpha, beta, seed), and a one-row
# sidecar with the environment that computed them (versions, device, CPU ISA, threads). The model
# is the trained one or, with datasets.NAME.models, the user's: then no input but a path and an
# md5 in params, so that replacing the file reruns its certifications and touching it does not.

# The certify options of each dataset's jobs, as options of scripts/certify.py (rsmooth/jobs.py):
# with radii (the n_cert draws) for the pairs of certified_pairs, without for the others.
CERTIFY_ARGS = {
    ds: {radius: cli_args(jobs.certify(d, radius)) for radius in (True, False)}
    for ds, d in DATASETS.items()
}


rule certify:
    input:
        data=f"{RES}/{{dataset}}/data.npz",
        # the trained checkpoint; none for the user's (a touch would rerun): see params
        model=lambda wc: (
            [] if GIVEN[wc.dataset] else model_path(wc.dataset, wc.alpha, wc.seed)
        ),
    output:
        table=f"{CERT}.csv",
        env=f"{CERT}.env.csv",
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
        args=lambda wc: CERTIFY_ARGS[wc.dataset][
            (wc.alpha, wc.beta) in certified_pairs(wc.dataset)
        ],
        # the checkpoint of h_alpha: the user's (datasets.NAME.models) or the trained one
        model=lambda wc: (
            GIVEN[wc.dataset].get((wc.alpha, wc.seed))
            or model_path(wc.dataset, wc.alpha, wc.seed)
        ),
        model_md5=lambda wc: GIVEN_MD5.get(
            GIVEN[wc.dataset].get((wc.alpha, wc.seed)), ""
        ),
        classifier=classifier_args,
        arch_code=lambda wc: ARCH_CODE[wc.dataset],
        device=config["device"],
        torch_threads=torch_threads(),
    shell:
        script(
            "certify",
            "--model {params.model:q} --data {input.data:q}"
            " {params.classifier} --alpha {wildcards.alpha} --beta {wildcards.beta}"
            " --seed {wildcards.seed} {params.args} --device {params.device:q}"
            " --threads {params.torch_threads} --out {output.table:q} --env {output.env:q}"
            " > {log:q} 2>&1",
        )
