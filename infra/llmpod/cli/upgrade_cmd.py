"""`llmpod upgrade-check STACK --to VERSION`: what moving a stack to another vLLM release breaks.

Exit codes (DESIGN.md "More contracts"): 0 clean, 3 something would break (each
named with its fix), 1 bad input or a release llmpod has no facts for.
"""

from __future__ import annotations

import argparse
import json
import sys

from llmpod.cli.project_args import add_stacks_dir

COMMAND = (
    "upgrade-check",
    "check every flag llmpod renders, every metric it queries and the plan of each "
    "service against another vLLM release (exit 3 when something would break)",
)

EXIT_BREAKS = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stack", help="stack name (dev, staging, production) or a stack file path")
    p.add_argument("--to", required=True, metavar="VERSION", help="the vLLM release to move to")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument(
        "--all", action="store_true", help="also list the flags and metrics that are fine"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="also exit 3 for what llmpod's own render follows but something kept by hand "
        "would not: a flag the current argument list has and the target rejects, a metric "
        "name the target no longer exports",
    )
    add_stacks_dir(p)


def run(ns: argparse.Namespace) -> int:
    from llmpod.errors import LlmpodError

    try:
        return _check(ns)
    except LlmpodError as err:
        if not ns.json:
            raise
        from llmpod.cli.json_errors import print_error

        print_error(err, ok=None)
        return err.exit_code


def _check(ns: argparse.Namespace) -> int:
    from llmpod.environments.stack_yaml import read_stack_text
    from llmpod.environments.stacks import load_spec, resolve_stack
    from llmpod.releases.facts import facts_for
    from llmpod.upgrade.check import check_stack
    from llmpod.upgrade.report import render_text

    facts_for(ns.to)  # an unknown release is bad input before any planning
    path = resolve_stack(ns.stack, ns.stacks_dir)
    spec = load_spec(read_stack_text(path), role="stack")
    checks = check_stack(spec, ns.to)
    breaks = any(c.breaks or (ns.strict and c.needs_rerender) for c in checks)
    if ns.json:
        doc = {
            "ok": not breaks,
            "stack": str(path),
            "to": ns.to,
            "services": [c.as_json() for c in checks],
        }
        print(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(f"stack: {path.resolve()}", file=sys.stderr)
        sys.stdout.write(render_text(checks, show_fine=ns.all))
    return EXIT_BREAKS if breaks else 0
