"""The upgrade gate's metric checks: every name llmpod queries or reads
(llmpod.upgrade.metric_uses) against the target release's metric facts."""

from __future__ import annotations

from llmpod.releases.facts import ReleaseFacts, facts_near
from llmpod.releases.for_release import metric_name
from llmpod.spec.service import ServingSpec
from llmpod.upgrade.findings import Finding
from llmpod.upgrade.metric_uses import USES


def metric_findings(sp: ServingSpec, from_version: str, new: ReleaseFacts) -> list[Finding]:
    """One finding per metric name llmpod would use on the target, naming every user."""
    grouped: dict[tuple[str, str], list[tuple[str, bool, tuple[str, ...]]]] = {}
    for use in USES:
        if not use.applies_to(sp):
            continue
        before = metric_name(use.metric.names, from_version)
        after = metric_name(use.metric.names, new.version)
        grouped.setdefault((after, before), []).append((use.where, use.required, use.metric.names))
    out: list[Finding] = []
    for (after, before), uses in sorted(grouped.items()):
        state = new.metric_state(after)
        required = any(r for _, r, _ in uses)
        detail = f"{after} is {state} in {new.version}; used by " + ", ".join(
            sorted({w for w, _, _ in uses})
        )
        fix = ""
        if state == "hidden":
            fix = f"only exported with --show-hidden-metrics-for-version={new.version}"
        elif state == "gone":
            fix = f"{new.version} exports none of {', '.join(uses[0][2])}"
        status = state
        if before != after:
            detail += f"; renamed from {before}: queries of your own on {before} go blind"
            if state == "present":
                status = "renamed"
                fix = f"llmpod renders {after} for {new.version}; move your own queries to it"
        out.append(Finding("metric", after, status, required and state != "present", detail, fix))
    covered = {f.subject for f in out} | {before for (_after, before) in grouped}
    out += _vanished_names(sp, from_version, new, covered)
    return out


def _vanished_names(
    sp: ServingSpec, from_version: str, new: ReleaseFacts, used: set[str]
) -> list[Finding]:
    """Older names of the metrics llmpod uses that the current release exports and the
    target does not: llmpod follows the rename, but queries, alerts and dashboards of
    your own (or rendered by an older llmpod) on the old name go blind."""
    old = facts_near(from_version)
    out: dict[str, Finding] = {}
    for use in USES:
        if not use.applies_to(sp):
            continue
        current = metric_name(use.metric.names, new.version)
        for name in use.metric.names:
            if name in used or name in out or old.metric_state(name) != "present":
                continue
            state = new.metric_state(name)
            if state == "present":
                continue
            out[name] = Finding(
                "metric",
                name,
                "renamed",
                False,
                f"exported by {old.version}, {state} in {new.version}: renamed to {current}",
                f"llmpod queries {current} for {new.version}; move your own queries to it",
            )
    return sorted(out.values(), key=lambda f: f.subject)
