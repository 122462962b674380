"""The upgrade gate inside `llmpod diff A B` (and so the PR preview built on it).

`diff A B` compares the source of a promotion with its destination (the PR
workflow runs `llmpod diff staging production`; `llmpod promote A B` carries
A's promotable spec, image.vllm_version included, to B). When a service runs
a different vLLM release on the two sides, B's service is checked moving to
A's release: what the promotion would break there, what llmpod's render
follows.
"""

from __future__ import annotations

from llmpod.errors import LlmpodError
from llmpod.releases.facts import known_versions
from llmpod.spec.stack import StackSpec
from llmpod.upgrade.check import ServiceCheck, check_service
from llmpod.upgrade.report import plan_lines


def upgrade_checks(a: StackSpec, b: StackSpec) -> list[ServiceCheck | str]:
    """A check per service whose vLLM release differs (B's service moved to A's
    release), or a sentence where llmpod has no facts for A's release."""
    source = {s.name: s for s in a.services}
    out: list[ServiceCheck | str] = []
    for service in b.services:
        other = source.get(service.name)
        if other is None or other.image.vllm_version == service.image.vllm_version:
            continue
        to = other.image.vllm_version
        if to not in known_versions():
            out.append(f"{service.name}: no vLLM facts for {to}; upgrade check skipped")
            continue
        try:
            out.append(check_service(service, b.environment, to))
        except LlmpodError as err:
            out.append(f"{service.name}: upgrade check to {to} failed: {err.render()}")
    return out


def render_upgrade_checks(checks: list[ServiceCheck | str], *, markdown: bool) -> str:
    if not checks:
        return ""
    lines = ["### vLLM upgrade check" if markdown else "vLLM upgrade check:"]
    for c in checks:
        if isinstance(c, str):
            lines.append(f"- {c}" if markdown else f"  {c}")
            continue
        verdict = "**breaks**" if c.breaks and markdown else ("BREAKS" if c.breaks else "ok")
        lines.append(
            f"- `{c.service}`: vLLM {c.from_version} → {c.to_version}: {verdict}"
            if markdown
            else f"  {c.service}: vLLM {c.from_version} → {c.to_version}: {verdict}"
        )
        for f in c.findings:
            if f.status in ("fine", "present"):
                continue
            text = (
                f"{f.kind} `{f.subject}`: {f.status}"
                if markdown
                else f"{f.kind} {f.subject}: {f.status}"
            )
            if f.fix:
                text += f" (fix: {f.fix})"
            lines.append(f"  - {text}" if markdown else f"    {text}")
        lines += [("  - " if markdown else "  ") + ln.strip() for ln in plan_lines(c)]
    return "\n".join(lines) + "\n"
