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
        from llmpod.gpus.catalog import all_gpus
        from llmpod.gpus.nodes import instances_for

        rows = [
            {
                "gpu": g.key,
                "name": g.display,
                "memory_gib": g.memory_gib,
                "hbm_gbs": g.hbm_bandwidth_gbs,
                "bf16_tflops": g.bf16_tflops,
                "fp8_tflops": g.fp8_tflops,
                "interconnect": g.interconnect_name,
                "k8s_labels": list(g.k8s_product_labels),
                "aws_instances": [f"{i.name} ({i.gpus})" for i in instances_for(g.key)],
                "price_per_gpu_hour": g.price_per_gpu_hour,
                "price_source": g.price_source,
                "price_as_of": g.price_as_of,
            }
            for g in all_gpus()
        ]
    else:
        from llmpod.models.catalog import all_entries

        rows = [
            {"model": e.name, "aliases": list(e.aliases), "source": e.source} for e in all_entries()
        ]
    if ns.json:
        print(json.dumps(rows, indent=2))
        return 0
    from rich.console import Console

    Console(highlight=False).print(_table(ns.what, rows))
    return 0


#: Human columns: (row key, heading, never wrapped). The rest (labels, instances,
#: price sources) is in --json; at 80 columns a table of everything truncates
#: the names people type.
_COLUMNS = {
    "gpus": (
        ("gpu", "GPU", True),
        ("name", "name", False),
        ("memory_gib", "GiB", True),
        ("hbm_gbs", "HBM GB/s", True),
        ("bf16_tflops", "bf16 TFLOPS", False),
        ("fp8_tflops", "fp8 TFLOPS", False),
        ("price_per_gpu_hour", "$/GPU-h", True),
    ),
}


def _cell(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def _table(what: str, rows: list[dict[str, object]]) -> object:
    from rich.table import Table

    caption = "more fields (prices' sources, labels, config.json sources): --json"
    if what == "models":
        # Names up to ~60 characters and aliases up to ~35 do not fit side by side
        # in 80 columns: each model's aliases go on the line under its name.
        table = Table(title="llmpod catalog models", caption=caption, show_lines=False)
        table.add_column("model (aliases)", overflow="fold")
        for row in rows:
            aliases = _cell(row["aliases"])
            table.add_row(str(row["model"]) + (f"\n  aliases: {aliases}" if aliases else ""))
        return table
    table = Table(title=f"llmpod catalog {what}", caption=caption)
    for _, heading, whole in _COLUMNS[what]:
        # fold, never "…": a truncated model or GPU name cannot be copied.
        table.add_column(heading, no_wrap=whole, overflow="fold")
    for row in rows:
        table.add_row(*[_cell(row[key]) for key, _, _ in _COLUMNS[what]])
    return table
