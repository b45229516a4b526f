#!/usr/bin/env python
"""Fetch a dataset once and cache it as one .npz of uint8 arrays that later stages load fast.

MNIST and CIFAR-10 come through torchvision from the data root (downloaded only when the raw
files are missing); any other dataset from an .npz with x_train, y_train, x_test, y_test.
"""
import argparse
from pathlib import Path

from rsmooth import cli, data


def parser() -> argparse.ArgumentParser:
    """The command line. Options that name a config key have no default here: the rule passes
    each (its default lives in the schema alone)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("--source", required=True, choices=["mnist", "cifar10", "npz"],
                   help="where the images come from")
    p.add_argument("--root", required=True, help="torchvision data root (mnist, cifar10)")
    p.add_argument("--path", help="the .npz file (source npz)")
    p.add_argument("--num-classes", type=cli.positive_int, help="npz: number of classes (default: max label + 1)")
    p.add_argument("--classes", type=int, nargs="+", help="keep only these classes, relabelled 0..k-1")
    p.add_argument("--out", required=True, type=Path, help="the cache .npz to write")
    p.add_argument("--sources", type=Path, help="CSV to write: the files read, their bytes and md5")
    return p


def main() -> None:
    a = parser().parse_args()
    import pandas as pd

    from rsmooth import io, provenance

    arrays = data.fetch(a.source, a.root, a.path, a.num_classes, a.classes)
    data.save_cache(arrays, a.out)
    if a.sources is not None:  # what the cache was built from (files downloaded just now included)
        records = [r for r in provenance.source_records(a.source, a.root, a.path) if r["present"]]
        io.write_csv(pd.DataFrame(records, columns=["file", "bytes", "md5"]), a.sources)
    print(f"{a.out}: train {arrays.x_train.shape}, test {arrays.x_test.shape}, "
          f"{arrays.num_classes} classes")


if __name__ == "__main__":
    cli.run(main)
