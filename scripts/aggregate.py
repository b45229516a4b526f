#!/usr/bin/env python
"""Aggregate per-image certification CSVs into the tidy risk table.

risk.csv: one row per (alpha, beta, seed) with the test images (sample, n_test), errors, risk and its Clopper-Pearson
interval at --level, certified accuracy at each --radii, the average certified radius, and the
training metrics of h_alpha (empty without --metrics: checkpoints that the pipeline did not
train). With several seeds, the mean and spread over seeds of each risk with a Student-t
interval at --level; the whole certified-accuracy curve of every table that drew radii
(certified.csv: the figure's steps, rsmooth.analysis.certified_curve); and the environments that
made the models and tables. alpha*, contrasts and gaps: scripts/claims.py.
"""
import argparse
import sys
from pathlib import Path

from rsmooth import cli


def parser() -> argparse.ArgumentParser:
    """The command line. Options that name a config key have no default here: the rule passes
    each (its default lives in the schema alone)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("--certs", required=True, nargs="+", type=cli.existing_file, help="per-image CSVs")
    p.add_argument("--envs", nargs="*", type=cli.existing_file, default=[],
                   help="environment sidecars of the certification CSVs (.env.csv)")
    p.add_argument("--metrics", nargs="*", type=cli.existing_file, default=[], help="training metrics CSVs")
    p.add_argument("--radii", type=cli.nonneg_float, nargs="*", required=True,
                   help="radii of the certified-accuracy columns")
    p.add_argument("--level", type=cli.probability, required=True,
                   help="confidence level of the risk intervals (risk.csv and the seeds summary)")
    p.add_argument("--sample", choices=["all", "random", "first"], required=True,
                   help="which test images the tables cover (config certify.sample; all when n_test is 0), "
                        "written as a column")
    p.add_argument("--dataset", default="", help="dataset name, written as a column")
    p.add_argument("--risk", required=True, type=Path, help="tidy risk table to write")
    p.add_argument("--seeds-summary", type=Path, help="per-(alpha, beta) mean and spread over seeds")
    p.add_argument("--environments", type=Path, help="the environments that made the models and tables")
    p.add_argument("--certified", type=Path,
                   help="the certified-accuracy curve (radius, cert_acc) of every table with radii")
    return p


def main() -> None:
    a = parser().parse_args()

    import pandas as pd

    from rsmooth import analysis, io, provenance

    # Read and check every input before writing anything: a bad file leaves the old tables.
    certs = analysis.read_certifications(a.certs)
    metrics = [analysis.read_table(f, ["alpha", "seed", "clean_test_acc", "final_loss"]) for f in a.metrics]
    envs = [analysis.read_table(f, ["alpha", "beta", "seed", "env_id"]) for f in a.envs]

    rows = []
    for df in certs.values():
        first = df.iloc[0]
        key = {"alpha": float(first["alpha"]), "beta": float(first["beta"]), "seed": int(first["seed"])}
        rows.append({"dataset": a.dataset, **key, "sample": a.sample, **analysis.summarize(df, a.radii, a.level)})
    risk = pd.DataFrame(rows).sort_values(["seed", "beta", "alpha"]).reset_index(drop=True)
    cols = ["alpha", "seed", "clean_test_acc", "noisy_test_acc", "final_loss", "train_env"]
    if metrics:
        m = pd.concat(metrics)
        m = m.rename(columns={"env_id": "train_env"}) if "env_id" in m else m.assign(train_env="")
        risk = risk.merge(m[[c for c in cols if c in m]], on=["alpha", "seed"], how="left")
    else:  # checkpoints of your own (config models): no training, empty training columns
        risk = risk.assign(**{c: float("nan") for c in cols[2:-1]}, train_env="")
    if envs:
        e = pd.concat(envs).rename(columns={"env_id": "certify_env"})
        risk = risk.merge(e[["alpha", "beta", "seed", "certify_env"]], on=["alpha", "beta", "seed"], how="left")
    environments = provenance.environment_table(
        pd.concat(metrics).assign(role="train") if metrics else None,
        pd.concat(envs).assign(role="certify") if envs else None)

    certified = analysis.certified_curves(certs.values(), a.dataset)

    io.write_csv(risk, a.risk)
    print(risk[["seed", "alpha", "beta", "risk", "risk_low", "risk_high"]].to_string(index=False))
    if a.seeds_summary:
        io.write_csv(analysis.across_seeds(risk, a.level), a.seeds_summary)
    if a.environments:
        io.write_csv(environments, a.environments)
    if a.certified:
        io.write_csv(certified, a.certified)
    if environments["env_id"].nunique() > 1:
        print(f"warning: these results mix {environments['env_id'].nunique()} environments "
              f"(see {a.environments or 'the env_id columns'}): across them results agree only "
              "statistically, not bit for bit", file=sys.stderr)


if __name__ == "__main__":
    cli.run(main)
