"""No privileged containers.

vLLM needs GPUs through the device plugin, not a privileged container; a
privileged (or CAP_SYS_ADMIN / ALL-capabilities) container can reach every
GPU and the host, bypassing the per-pod GPU limits the planner sized.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmpod.policy.pods import containers, dig, name_of, pod_templates, seq

_ESCALATING_CAPS = {"ALL", "SYS_ADMIN", "CAP_SYS_ADMIN"}


def check_not_privileged(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    out = []
    for t in pod_templates(resource_type, props):
        for c in containers(t.spec):
            where = f"{name_of(resource_type, props)}: container {c.get('name')!r}"
            if dig(c, "securityContext", "privileged") is True:
                out.append(
                    f"{where} is privileged; remove securityContext.privileged (GPUs "
                    f"come from the device plugin)."
                )
            added = {str(x).upper() for x in seq(dig(c, "securityContext", "capabilities", "add"))}
            bad = sorted(added & _ESCALATING_CAPS)
            if bad:
                out.append(
                    f"{where} adds capabilities {', '.join(bad)}, which amounts to "
                    f"privileged; drop them."
                )
    return out
