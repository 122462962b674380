"""`llmpod render`: a stack's resources as files, without a cluster or the Pulumi CLI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from llmpod.cli.project_args import add_stacks_dir

if TYPE_CHECKING:
    from llmpod.spec.stack import StackSpec

COMMAND = (
    "render",
    "write a stack's Kubernetes manifests (and other resources) as files, "
    "and check them against the policy pack",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "stack", help="stack name: <stackConfigDir>/Pulumi.<stack>.yaml (dev, staging...)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default: build/<stack> next to Pulumi.yaml); "
        "replaced atomically, and only if a previous render created it (or "
        "it is empty)",
    )
    add_stacks_dir(parser)
    parser.add_argument(
        "--strict", action="store_true", help="exit 3 when the policy pack reports any violation"
    )


def run(ns: argparse.Namespace) -> int:
    # Heavy imports (pulumi, pulumi-kubernetes) only here: the CLI's start stays fast.
    from llmpod.project import find_project
    from llmpod.render.api import render_stack
    from llmpod.render.output_dir import check_output_dir
    from llmpod.render.policy_report import (
        REPORT_FILE,
        policy_config,
        report_json,
        run_policies,
        summary,
    )
    from llmpod.render.writer import write_tree

    project = find_project() if ns.stacks_dir is None else None
    stacks_dir: Path = ns.stacks_dir if project is None else project.stacks_dir
    out: Path = ns.out or (project.root if project else Path()) / "build" / ns.stack
    # Refuse a dangerous --out before the (slow) render, and again inside write_tree.
    out = check_output_dir(out, stacks_dir)
    result = render_stack(ns.stack, ns.stacks_dir)
    print(f"stack: {result.stack_path}", file=sys.stderr)
    config = policy_config(result.spec, ns.stack, project.root if project else None)
    violations = run_policies(
        result.objects,
        config,
        spec=result.spec,
        stack=ns.stack,
        origin_services=_staging_services(result.stack_path),
    )
    for note in write_tree(out, {**result.files, REPORT_FILE: report_json(violations)}):
        print(f"note: {note}", file=sys.stderr)
    for svc in result.services:
        print(svc.report())
    _note_unpublished_image(result.spec, ns.stack)
    total = sum(s.cost_per_hour for s in result.services)
    print(f"{len(result.files) + 1} files in {out} (total ${total:.2f}/h)")
    for line in summary(violations, out / REPORT_FILE):
        print(line)
    return 3 if ns.strict and violations else 0


def _note_unpublished_image(spec: StackSpec, stack: str) -> None:
    """The rendered pods would pull an image nobody publishes: say how to make it."""
    from llmpod.image.build_context import DEFAULT_REPOSITORY

    names = [s.name for s in spec.services if s.image.repository == DEFAULT_REPOSITORY]
    if names:
        print(
            f"note: {', '.join(names)} pull{'s' if len(names) == 1 else ''} "
            f"{DEFAULT_REPOSITORY}, image.repository's default, where llmpod publishes no "
            f"image: set image.repository to your registry and build it with `llmpod image "
            f"context DIR {stack}`.",
            file=sys.stderr,
        )


def _staging_services(stack_path: Path) -> list[str] | None:
    """Service names of the staging file next to ``stack_path`` (where promotable
    values such as image.digest are set), in file order; None if unreadable."""
    from llmpod.environments.stack_files import read_stack_config
    from llmpod.errors import LlmpodError

    staging = stack_path.with_name("Pulumi.staging.yaml")
    if not staging.is_file():
        return None
    try:
        services = read_stack_config(staging).get("llmpod:services")
    except LlmpodError:
        return None
    if not isinstance(services, list):
        return None
    return [str(s.get("name")) for s in services if isinstance(s, dict)]
