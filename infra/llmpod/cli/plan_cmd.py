"""`llmpod plan`: one model on one (or a preference list of) GPU type(s)."""

from __future__ import annotations

import argparse
import json
import sys

from llmpod.errors import LlmpodError
from llmpod.planner.api import make_plan
from llmpod.planning.flags import add_plan_arguments as add_arguments
from llmpod.planning.flags import request_from_args

COMMAND = ("plan", "size one model on a GPU type: layout, memory, vLLM flags, cost")
__all__ = ["COMMAND", "add_arguments", "run"]


def run(ns: argparse.Namespace) -> int:
    try:
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
