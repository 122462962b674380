"""Terminal view of a plan diff (rich tables), the same rows as the markdown."""

from __future__ import annotations

from typing import TextIO

from llmpod.environments.markdown import COST_NOTE
from llmpod.environments.plan_diff import StackDiff, money


def show_diff(diff: StackDiff, out: TextIO, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, highlight=False, soft_wrap=True, width=120)
    a, b = diff.a_label, diff.b_label
    console.print(Text(title or f"llmpod plan diff: {a} → {b}", style="bold"))
    for s in diff.services:
        status = (
            "only in " + b
            if s.a is None
            else "only in " + a
            if s.b is None
            else "changed"
            if s.changed
            else "unchanged"
        )
        table = Table(title=f"{s.name} ({status})", title_justify="left")
        table.add_column("")
        table.add_column(a)
        table.add_column(b)
        for row in s.rows:
            style = "yellow" if row.changed else None
            table.add_row(row.label, row.a, row.b, style=style)
        console.print(table)
        for side, summary in ((a, s.a), (b, s.b)):
            if summary is not None and summary.error:
                console.print(Text(f"{side}: does not plan. {summary.error}", style="red"))
    delta = diff.total_cost("b") - diff.total_cost("a")
    console.print(
        f"Cost per hour: {money(diff.total_cost('a'))} ({a}) → "
        f"{money(diff.total_cost('b'))} ({b}), "
        f"{'+' if delta >= 0 else '−'}{money(abs(delta))}/h"
    )
    console.print("Prices per GPU-hour:")
    for p in diff.prices:
        console.print(f"  {p.gpu}: {money(p.per_gpu_hour, 3)} — {p.source} (as of {p.as_of})")
    console.print(Text(COST_NOTE, style="dim"))
