"""`llmpod diff A B`: plan diff between two stacks (GPUs, layout, cost, vLLM args)."""

from __future__ import annotations

import argparse
import sys

from llmpod.cli.project_args import add_stacks_dir

COMMAND = (
    "diff",
    "compare the plans of two stacks service by service "
    "(GPUs, TP/PP, replicas, cost per hour and per 1M tokens, vLLM args)",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", help="stack name (dev, staging, production) or a stack file path")
    p.add_argument("b", help="stack name or stack file path")
    p.add_argument(
        "--markdown",
        action="store_true",
        help="GitHub-flavoured markdown (for PR comments) instead of tables",
    )
    add_stacks_dir(p)


def run(ns: argparse.Namespace) -> int:

    from llmpod.environments.drift import layout_drift
    from llmpod.environments.markdown import render_markdown
    from llmpod.environments.plan_diff import diff_stacks
    from llmpod.environments.stack_yaml import read_stack_text
    from llmpod.environments.stacks import label_of, load_spec, resolve_stack
    from llmpod.environments.summary import summarize_stack
    from llmpod.environments.table_view import show_diff

    stacks_dir = ns.stacks_dir
    specs = []
    sides = []
    stacks = []
    for ref in (ns.a, ns.b):
        path = resolve_stack(ref, stacks_dir)
        print(f"stack: {path.resolve()}", file=sys.stderr)
        spec = load_spec(read_stack_text(path), role="stack")
        stacks.append(spec)
        specs.append({s.name: s for s in spec.services})
        sides.append(summarize_stack(spec))
    a_label, b_label = label_of(ns.a), label_of(ns.b)
    if a_label == b_label:
        a_label, b_label = ns.a, ns.b
    diff = diff_stacks(a_label, sides[0], b_label, sides[1])
    drifts = [
        d.message(a_label, b_label) for d in layout_drift(specs[0], sides[0], specs[1], sides[1])
    ]
    if ns.markdown:
        print(render_markdown(diff))
        for message in drifts:
            print(f"> [!WARNING]\n> {message}\n")
    else:
        show_diff(diff, sys.stdout)
        for message in drifts:
            print(f"warning: {message}")
    from llmpod.upgrade.diff_hook import render_upgrade_checks, upgrade_checks

    sys.stdout.write(
        render_upgrade_checks(upgrade_checks(stacks[0], stacks[1]), markdown=ns.markdown)
    )
    return 0
