"""`llmpod catalog models|gpus`."""

from __future__ import annotations

import argparse
import json

COMMAND = ("catalog", "list the built-in models or GPUs")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=["models", "gpus"])
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(ns: argparse.Namespace) -> int:
    if ns.what == "gpus":
        from infra.aws.instance_catalog import instances_for
        from infra.gpus.catalog import all_gpus

        rows = [{"gpu": g.key, "name": g.display, "memory_gib": g.memory_gib,
                 "hbm_gbs": g.hbm_bandwidth_gbs, "bf16_tflops": g.bf16_tflops,
                 "fp8_tflops": g.fp8_tflops, "interconnect": g.interconnect_name,
                 "k8s_labels": list(g.k8s_product_labels),
                 "aws_instances": [f"{i.name} ({i.gpus})" for i in instances_for(g.key)],
                 "price_per_gpu_hour": g.price_per_gpu_hour, "price_source": g.price_source,
                 "price_as_of": g.price_as_of} for g in all_gpus()]
    else:
        from infra.models.catalog import all_entries

        rows = [{"model": e.name, "aliases": list(e.aliases), "source": e.source}
                for e in all_entries()]
    if ns.json:
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"llmpod catalog {ns.what}")
    for key in rows[0]:
        table.add_column(key)
    for row in rows:
        table.add_row(*[", ".join(map(str, v)) if isinstance(v, list) else str(v)
                        for v in row.values()])
    Console().print(table)
    return 0
