"""GitHub-flavoured markdown for a plan diff (PR comments, promotion PR bodies)."""

from __future__ import annotations

from llmpod.environments.plan_diff import ServiceDiff, StackDiff, money

COST_NOTE = (
    "Cost per 1M output tokens is an estimate: cost per hour divided by the "
    "planner's roofline decode throughput at the largest benchmark concurrency one "
    "replica holds, not a measurement."
)


def _cell(text: str) -> str:
    # A pipe would end the cell; backticks keep flags readable.
    return text.replace("|", "\\|")


def _service(s: ServiceDiff, a_label: str, b_label: str) -> list[str]:
    status = (
        "only in " + b_label
        if s.a is None
        else "only in " + a_label
        if s.b is None
        else "changed"
        if s.changed
        else "unchanged"
    )
    out = [f"#### `{s.name}` — {status}", "", f"| | {a_label} | {b_label} |", "|---|---|---|"]
    for row in s.rows:
        label = f"**{row.label}**" if row.changed else row.label
        a, b = _cell(row.a), _cell(row.b)
        if row.label == "vLLM args":
            a, b = (f"`{a}`" if "--" in a else a), (f"`{b}`" if "--" in b else b)
        out.append(f"| {label} | {a} | {b} |")
    for side, summary in ((a_label, s.a), (b_label, s.b)):
        if summary is not None and summary.error:
            out += ["", f"> **{side}: does not plan.** {summary.error}"]
    if s.arg_changes or (s.a and s.b and not s.a.error and not s.b.error):
        out += ["", "<details><summary>vLLM command lines</summary>", ""]
        for side, summary in ((a_label, s.a), (b_label, s.b)):
            if summary is not None and not summary.error:
                out += [
                    f"{side} (vLLM {summary.vllm_version}):",
                    "",
                    "```",
                    "vllm serve " + " ".join(summary.vllm_args),
                    "```",
                    "",
                ]
        out.append("</details>")
    out.append("")
    return out


def render_markdown(diff: StackDiff, title: str | None = None) -> str:
    a, b = diff.a_label, diff.b_label
    total_a, total_b = diff.total_cost("a"), diff.total_cost("b")
    delta = total_b - total_a
    lines = [
        f"### {title or f'llmpod plan diff: `{a}` → `{b}`'}",
        "",
        f"**Cost per hour:** {money(total_a)} ({a}) → {money(total_b)} ({b}), "
        f"{'+' if delta >= 0 else '−'}{money(abs(delta))}/h"
        + ("" if diff.changed else " — no plan changes"),
        "",
    ]
    for s in diff.services:
        lines += _service(s, a, b)
    lines += ["**Prices** (per GPU-hour):", ""]
    lines += [
        f"- {p.gpu}: {money(p.per_gpu_hour, 3)} — {_cell(p.source)} (as of {p.as_of})"
        for p in diff.prices
    ] or ["- (no plannable service)"]
    lines += ["", f"_{COST_NOTE}_", ""]
    return "\n".join(lines)
