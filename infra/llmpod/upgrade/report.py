"""The upgrade gate's findings as text (tables for a terminal, markdown for a PR)."""

from __future__ import annotations

from typing import Any

from llmpod.upgrade.check import ServiceCheck


def _delta(before: Any, after: Any) -> str:
    if before is None or after is None:
        return f"{before} → {after}"
    if before == after:
        return f"{after} (unchanged)"
    if isinstance(before, int | float) and before:
        return f"{before} → {after} ({(after - before) / before:+.1%})"
    return f"{before} → {after}"


def plan_lines(check: ServiceCheck) -> list[str]:
    before, after = check.plan.get("from"), check.plan.get("to")
    if not before:
        return []
    if after is None:
        return ["  plan: no plan under the target (see above)"]
    return [
        f"  plan: {before['gpu']}×{before['gpus_per_replica']} ×{before['replicas']} → "
        f"{after['gpu']}×{after['gpus_per_replica']} ×{after['replicas']}",
        f"  KV-cache tokens: {_delta(before['kv_cache_tokens'], after['kv_cache_tokens'])}",
        "  peak decode tokens/s per replica: "
        + _delta(before["decode_tokens_per_s_peak"], after["decode_tokens_per_s_peak"]),
    ]


def render_text(checks: list[ServiceCheck], *, show_fine: bool = False) -> str:
    lines: list[str] = []
    for c in checks:
        verdict = "BREAKS" if c.breaks else "ok"
        lines.append(f"{c.service}: vLLM {c.from_version} → {c.to_version}: {verdict}")
        for f in c.findings:
            if f.status in ("fine", "present") and not show_fine:
                continue
            mark = "✗" if f.breaks else ("·" if f.status in ("fine", "present") else "!")
            text = f"  {mark} {f.kind} {f.subject}: {f.status}"
            if f.detail:
                text += f" — {f.detail}"
            lines.append(text)
            if f.fix:
                lines.append(f"      fix: {f.fix}")
        counts: dict[str, int] = {}
        for f in c.findings:
            counts[f"{f.kind} {f.status}"] = counts.get(f"{f.kind} {f.status}", 0) + 1
        lines.append("  " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        lines += plan_lines(c)
    return "\n".join(lines) + "\n"
