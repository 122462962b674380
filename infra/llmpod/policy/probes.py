"""Serving containers define startup, readiness and liveness probes.

All three, because each prevents a different outage users reported: without
a startup probe the liveness probe kills a pod still loading 100+ GiB of
weights; without readiness, traffic reaches a pod before warmup; without
liveness, a wedged engine (NCCL hang) keeps receiving requests forever.
Serving containers are those that hold a GPU or declare ports, in Deployment,
StatefulSet and LeaderWorkerSet leader templates (LWS workers run Ray
workers for the leader's engine and serve no HTTP; Jobs serve nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmpod.policy.pods import containers, gpu_limit, is_serving, name_of, pod_templates, seq

PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def check_probes(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    out = []
    for t in pod_templates(resource_type, props):
        if not is_serving(resource_type, t):
            continue
        for c in containers(t.spec, init=False):
            if gpu_limit(c) < 1 and not seq(c.get("ports")):
                continue
            missing = [p for p in PROBES if not isinstance(c.get(p), Mapping)]
            if missing:
                out.append(
                    f"{name_of(resource_type, props)}: serving container "
                    f"{c.get('name')!r} has no {', '.join(missing)}. Add them: a "
                    f"startupProbe sized to the weight load time, readiness after "
                    f"warmup, liveness on /health."
                )
    return out
