# Stage 4: the tidy risk table of each dataset, its spread over seeds, the certified-accuracy
# curves (the certified figure draws them) and the environments.
import json

# The training metrics of every model of each dataset; none for checkpoints of the user's.
METRICS = {
    ds: (
        []
        if GIVEN[ds]
        else [
            MODEL.format(dataset=ds, alpha=a, seed=s) + ".metrics.csv"
            for s in SEEDS
            for a in alphas(ds)
        ]
    )
    for ds in DATASETS
}


rule aggregate:
    input:
        certs=all_certs,
        envs=lambda wc: [c[: -len(".csv")] + ".env.csv" for c in all_certs(wc)],
        metrics=lambda wc: METRICS[wc.dataset],
    output:
        risk=report(
            f"{RES}/{{dataset}}/risk.csv",
            caption="../report/table.rst",
            category="{dataset}",
            labels={"table": "risk"},
        ),
        seeds=report(
            f"{RES}/{{dataset}}/risk_seeds.csv",
            caption="../report/seeds.rst",
            category="{dataset}",
            labels={"table": "risk across seeds"},
        ),
        environments=report(
            f"{RES}/{{dataset}}/environments.csv",
            caption="../report/environments.rst",
            category="{dataset}",
            labels={"table": "environments"},
        ),
        certified=f"{RES}/{{dataset}}/certified.csv",
    log:
        f"{RES}/logs/aggregate/{{dataset}}.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        # radii, the level of the intervals, the test images (rsmooth/jobs.py)
        args=lambda wc: cli_args(jobs.aggregate(DATASETS[wc.dataset])),
    shell:
        script(
            "aggregate",
            "--dataset {wildcards.dataset} --certs {input.certs:q}"
            " --envs {input.envs:q} --metrics {input.metrics:q} {params.args}"
            " --risk {output.risk:q} --seeds-summary {output.seeds:q}"
            " --environments {output.environments:q} --certified {output.certified:q}"
            " > {log:q} 2>&1",
        )


# The record of the run's settings (the validated config), as JSON: an argument of the script,
# and in params, so that a changed setting reruns the record.
CONFIG_RECORD = json.dumps(config, sort_keys=True)


rule config_used:
    output:
        report(
            f"{RES}/config_used.yaml", caption="../report/table.rst", category="config"
        ),
    log:
        f"{RES}/logs/config_used.log",
    conda:
        "../envs/pipeline.yaml"
    params:
        record=lambda wc: CONFIG_RECORD,  # a function: the text may hold {alpha} (datasets.NAME.models)
    shell:
        script(
            "write_config",
            "--config {params.record:q} --out {output:q} > {log:q} 2>&1",
        )
