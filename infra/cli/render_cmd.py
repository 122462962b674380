"""`llmpod render`: a stack's resources as files, without a cluster or the Pulumi CLI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COMMAND = ("render", "write a stack's Kubernetes manifests (and other resources) as files")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml (dev, staging...)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: build/<stack>); replaced atomically, "
                             "and only if a previous render created it (or it is empty)")
    parser.add_argument("--stacks-dir", type=Path, default=None,
                        help="directory holding Pulumi.<stack>.yaml (default: stacks/)")


def run(ns: argparse.Namespace) -> int:
    # Heavy imports (pulumi, pulumi-kubernetes) only here: the CLI's start stays fast.
    from infra.render.api import render_stack
    from infra.render.output_dir import check_output_dir
    from infra.render.writer import write_tree
    from infra.spec.stack import STACKS_DIR

    out: Path = ns.out or Path("build") / ns.stack
    # Refuse a dangerous --out before the (slow) render, and again inside write_tree.
    out = check_output_dir(out, ns.stacks_dir or STACKS_DIR)
    result = render_stack(ns.stack, ns.stacks_dir)
    for note in write_tree(out, result.files):
        print(f"note: {note}", file=sys.stderr)
    for svc in result.services:
        print(svc.report())
    total = sum(s.cost_per_hour for s in result.services)
    print(f"{len(result.files)} files in {out} (total ${total:.2f}/h)", file=sys.stdout)
    return 0
