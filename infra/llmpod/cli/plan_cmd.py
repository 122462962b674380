"""`llmpod plan`: one model on one (or a preference list of) GPU type(s)."""

from __future__ import annotations

import argparse
import json
import sys

from llmpod.errors import LlmpodError
from llmpod.planner.api import make_plan
from llmpod.planning.flags import add_plan_arguments, request_from_args

COMMAND = ("plan", "size one model on a GPU type: layout, memory, vLLM flags, cost")
__all__ = ["COMMAND", "add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_plan_arguments(p)
    p.add_argument(
        "--workload-from",
        metavar="RECORDING",
        help="plan for the traffic a server saw: a `llmpod diagnose --save` recording "
        "(its prompt/output lengths, requests in flight and prefix-cache share fill "
        "--input-len, --output-len, --concurrency and --prefix-hit where not given)",
    )


def _observed(ns: argparse.Namespace) -> None:
    """Fill the traffic flags the user left out from a recording's own metrics."""
    from llmpod.diagnose.analyze import snapshots
    from llmpod.diagnose.recording import load
    from llmpod.diagnose.workload import observed_workload

    seen = observed_workload(snapshots(load([ns.workload_from])), source=ns.workload_from)
    if ns.input_len is None:
        ns.input_len = max(1, round(seen.prompt_tokens_mean))
    if ns.output_len is None:
        ns.output_len = max(1, round(seen.output_tokens_mean))
    if ns.concurrency is None and ns.rate is None:
        ns.concurrency = max(1, round(seen.in_system_mean))
    if ns.prefix_hit is None and seen.prefix_hit is not None:
        ns.prefix_hit = round(seen.prefix_hit, 3)


def run(ns: argparse.Namespace) -> int:
    try:
        if getattr(ns, "workload_from", None):
            _observed(ns)
        plan = make_plan(request_from_args(ns))
    except LlmpodError as err:
        if ns.json:
            print(json.dumps({"feasible": False, "errors": [err.as_json()]}, indent=2))
            return 1
        raise
    if ns.json:
        print(json.dumps(plan.to_json(), indent=2))
    else:
        from llmpod.cli.plan_view import show

        show(plan, sys.stdout)
    return 0 if plan.feasible else 2
