"""Verify's checks as JSON for machines and a table for people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from llmpod.image.runtime.plan_check import Check, outcome


def to_json(plan_label: str, server: str, checks: Sequence[Check]) -> dict[str, Any]:
    return {"plan": plan_label, "server": server, **outcome(checks)}


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def write_text(plan_label: str, server: str, checks: Sequence[Check], out: IO[str]) -> None:
    result = outcome(checks)
    differs = result["differs"]
    head = "MATCHES THE PLAN" if not differs else f"DIFFERS FROM THE PLAN: {', '.join(differs)}"
    out.write(f"{head}\n  plan: {plan_label}\n  server: {server}\n")
    rows = [("check", "planned", "running", "tolerance", "")]
    for c in checks:
        mark = "ok" if c.ok else "DIFFERS" if c.ok is False else "not checked"
        detail = f"{mark} ({c.note})" if c.note else mark
        rows.append((c.name, _show(c.planned), _show(c.running), c.tolerance, detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        cells = [r[i].ljust(widths[i]) for i in range(4)]
        out.write("  " + "  ".join(cells) + "  " + r[4] + "\n")
