#!/usr/bin/env python
"""Write the validated configuration of a run as YAML (for the report and for provenance).

The configuration comes as JSON in --config (the rule passes the validated config).
"""
import argparse
import json
from pathlib import Path

from rsmooth import cli


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=cli.HelpFormatter)
    p.add_argument("--config", required=True, help="the configuration as JSON")
    p.add_argument("--out", required=True, type=Path)
    a = p.parse_args()
    import yaml

    from rsmooth import io

    try:
        cfg = json.loads(a.config)
    except json.JSONDecodeError as e:
        p.error(f"--config is not JSON: {e}")
    with io.atomic_path(a.out) as tmp:
        tmp.write_text(yaml.safe_dump(cfg, sort_keys=False))


if __name__ == "__main__":
    cli.run(main)
