#!/usr/bin/env python
"""Put this pipeline's risks and alpha* beside the paper's published table, and replay the
paper's claims on that table.

  compare.py --risk risk.csv --alpha-star alpha_star.csv --reference TABLE --out CSV
             --fidelity-ratio LOW HIGH --claims CSV   (what the compare rule runs)
  compare.py --replay TABLE [--claims CSV]   (the claims of the paper's table alone)

TABLE has the columns alpha, beta, errors, risk, its risks errors over one test-image count
(derived and checked). The comparison matches each cell of ours to the nearest reference alpha
and beta closer than the tolerance; per cell, our risk (mean over seeds) over the paper's, the
ratio's interval and a verdict: agrees "yes" when the interval lies inside [LOW, HIGH], "no"
when outside, else "undecided". The paper's alpha* is its Savitzky-Golay (15, 3) argmin over
the positions of its grid, as the authors computed it (and its raw argmin), set against our
alpha* confidence set. It prints how many cells agree, disagree and are undecided. The math is
in rsmooth/reference.py; every input is checked before anything is written. It draws nothing:
`scripts/figures.py paper_comparison` draws the comparison table.
"""
import argparse
from pathlib import Path

from rsmooth import cli  # noqa: E402

RISK_COLUMNS = ["alpha", "beta", "seed", "n_test", "errors", "risk", "risk_low", "risk_high"]  # sample: optional
STAR_COLUMNS = ["seed", "beta", "alpha_star", "alpha_star_set", "curve_method"]


def parser() -> argparse.ArgumentParser:
    """The command line. Options that name a config key have no default here: the rule passes
    each (its default lives in the schema alone)."""
    from rsmooth import reference

    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("--reference", dest="table", type=Path,
                   help="the reference table (CSV; the rule gives the one the dataset's reference key names)")
    p.add_argument("--reference-dir", type=Path,
                   help="the folder a relative --reference is read from (the rule gives reference/)")
    p.add_argument("--replay", type=cli.existing_file, metavar="TABLE",
                   help="only replay the claims on this reference table (prints a Markdown table)")
    p.add_argument("--risk", type=cli.existing_file, help="our risk.csv")
    p.add_argument("--alpha-star", type=cli.existing_file, help="our alpha_star.csv")
    p.add_argument("--dataset", default="", help="dataset name, written as a column")
    p.add_argument("--tolerance", type=cli.positive_float, default=reference.TOLERANCE,
                   help="a reference alpha or beta matches ours when closer than this")
    p.add_argument("--savgol-window", type=cli.positive_int, required=True,
                   help="window of the pipeline's curve fit behind the replayed C2 and C3")
    p.add_argument("--savgol-order", type=cli.nonneg_int, required=True,
                   help="order of that fit")
    c3 = p.add_mutually_exclusive_group(required=True)
    c3.add_argument("--contrast-delta", type=cli.positive_float,
                   help="the replayed C3 contrast: risk(alpha=beta) - risk(alpha=beta-delta)")
    c3.add_argument("--no-contrast", dest="contrast_delta", action="store_const", const=None,
                    help="no replayed C3 contrast rows")
    p.add_argument("--level", type=cli.probability, required=True,
                   help="level of every interval: the claims', the risks' and the ratios'")
    p.add_argument("--fidelity-ratio", nargs=2, type=cli.positive_float, metavar=("LOW", "HIGH"),
                   help="a cell agrees when the interval of our risk / the paper's lies inside [LOW, HIGH] "
                        "(required with --reference)")
    p.add_argument("--n-boot", type=cli.positive_int, required=True, help="parametric resamples")
    p.add_argument("--rng-seed", type=cli.nonneg_int, required=True, help="seed of the resamples")
    p.add_argument("--out", type=Path, help="comparison table (CSV) to write")
    p.add_argument("--claims", type=Path, help="replayed claims of the reference (CSV) to write")
    return p


def markdown(claims) -> str:
    lines = ["| claim | beta | estimate | interval | verdict |", "| --- | --- | --- | --- | --- |"]
    for r in claims.itertuples():
        beta = "" if r.beta != r.beta else f"{r.beta:g}"
        lines.append(f"| {r.claim} | {beta} | {r.estimate:.4f} | [{r.low:.4f}, {r.high:.4f}] | {r.verdict} |")
    return "\n".join(lines)


def main() -> None:
    p = parser()
    a = p.parse_args()
    table = a.replay or (a.table if a.reference_dir is None or a.table is None else a.reference_dir / a.table)
    if table is not None and not table.is_file():
        p.error(f"no such file: {table}")
    if table is None:
        p.error("give --reference (with --risk, --alpha-star, --fidelity-ratio, --out) or --replay")
    if not a.replay and None in (a.risk, a.alpha_star, a.out, a.fidelity_ratio):
        p.error("--reference needs --risk, --alpha-star, --fidelity-ratio and --out")

    from rsmooth import analysis, io, reference

    try:
        band = None if a.replay else reference.fidelity_band(a.fidelity_ratio)
    except ValueError as e:
        p.error(f"--fidelity-ratio: {e}")

    ref, n = reference.load_reference(table)
    claims = reference.replay_claims(ref, n, window=a.savgol_window, order=a.savgol_order, level=a.level,
                                     n_boot=a.n_boot, rng_seed=a.rng_seed, delta=a.contrast_delta)
    if a.replay:
        if a.claims:
            io.write_csv(claims, a.claims)
        print(f"{table}: {ref['alpha'].nunique()} alphas x {ref['beta'].nunique()} betas, errors over {n} "
              f"test images\n{markdown(claims)}")
        return
    risk = analysis.read_table(a.risk, RISK_COLUMNS)
    star = analysis.read_table(a.alpha_star, STAR_COLUMNS)
    out = reference.compare(risk, star, ref, n, fidelity=band, level=a.level, tolerance=a.tolerance)
    out.insert(0, "dataset", a.dataset)
    io.write_csv(out, a.out)
    if a.claims:
        io.write_csv(claims, a.claims)
    print(f"{table}: errors over {n} test images; {int((out['quantity'] == 'risk').sum())} cells of ours "
          f"within {a.tolerance:g} of its grid")
    print(out[out["quantity"] == "risk"][["beta", "alpha_ours", "ours", "paper", "ratio", "ratio_low", "ratio_high",
                                         "agrees"]].to_string(index=False))
    print(out[out["quantity"] != "risk"].dropna(subset=["ours"])[
        ["seed", "quantity", "beta", "alpha_ours", "alpha_paper", "ours", "paper", "agrees"]].to_string(index=False))
    print(reference.summary(out))
    print(markdown(claims))


if __name__ == "__main__":
    cli.run(main)
