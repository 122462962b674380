"""`llmpod preflight STACK`: check an AWS account against a stack's AWS services."""

from __future__ import annotations

import argparse
import json
import sys

from llmpod.cli.project_args import add_stacks_dir

COMMAND = ("preflight", "check AWS region, instance types, S3 weights and quotas for a stack")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("stack", help="stack name (stacks/Pulumi.<stack>.yaml)")
    add_stacks_dir(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(ns: argparse.Namespace) -> int:
    from llmpod.aws.preflight import preflight_plans
    from llmpod.deploy.stack import plan_stack
    from llmpod.environments.stack_files import load_stack, stack_file

    path = stack_file(ns.stack, ns.stacks_dir).resolve()
    if not ns.json:
        print(f"stack: {path}", file=sys.stderr)
    plans = plan_stack(load_stack(ns.stack, ns.stacks_dir))
    report = preflight_plans(plans)
    rows = [
        {
            "service": f.service,
            "check": f.check,
            "status": f.status,
            "message": f.message,
            "suggestions": list(f.suggestions),
        }
        for f in report.findings
    ]
    if ns.json:
        print(
            json.dumps(
                {"stack": ns.stack, "stack_file": str(path), "ok": report.ok, "findings": rows},
                indent=2,
                sort_keys=True,
            )
        )
    elif not rows:
        print(f"{ns.stack}: no services with backend: aws; nothing to check.")
    else:
        for row in rows:
            tips = f" Try: {'; '.join(row['suggestions'])}." if row["suggestions"] else ""
            print(f"[{row['status']}] {row['service']} {row['check']}: {row['message']}{tips}")
        print(f"{ns.stack}: {'ready' if report.ok else f'{len(report.failures)} check(s) failed'}.")
    return 0 if report.ok else 2
