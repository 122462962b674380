"""The --stacks-dir option shared by commands that read stack files."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_stacks_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--stacks-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="directory holding Pulumi.<stack>.yaml (default: the stackConfigDir "
        "of the nearest Pulumi.yaml, see -C)",
    )
