"""`llmpod schema`: the ServingSpec / stack JSON schema, every field documented."""

from __future__ import annotations

import argparse
import json

COMMAND = ("schema", "print the JSON schema of a stack's llmpod config (every field documented)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--service", action="store_true", help="only one service entry")


def run(ns: argparse.Namespace) -> int:
    from llmpod.spec.service import ServingSpec
    from llmpod.spec.stack import StackSpec

    model = ServingSpec if ns.service else StackSpec
    print(json.dumps(model.model_json_schema(), indent=2, sort_keys=True))
    return 0
