"""Every pod scheduled for GPUs sets a GPU limit on a container.

Without ``resources.limits['nvidia.com/gpu']`` the NVIDIA device plugin
exposes no device to the container: the pod lands on a GPU node (its node
selector says so) and vLLM dies with "No CUDA GPUs are available" — or, with
a permissive runtime, grabs GPUs another pod was promised. Extended resources
also cannot be overcommitted, so a request must equal its limit (Kubernetes
rejects anything else at admission; catching it here fails at preview time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmpod.policy.pods import (
    GPU_RESOURCES,
    containers,
    dig,
    gpu_limit,
    name_of,
    pod_templates,
    wants_gpu,
)


def check_gpu_limits(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    out = []
    for t in pod_templates(resource_type, props):
        why = wants_gpu(t.spec)
        if why is None:
            continue
        where = f"{name_of(resource_type, props)} ({t.role} pod template)"
        if not any(gpu_limit(c) >= 1 for c in containers(t.spec, init=False)):
            out.append(
                f"{where} is a GPU pod ({why}) but no container sets "
                f"resources.limits['nvidia.com/gpu'] (or amd.com/gpu); without it the "
                f"device plugin gives the container no GPU. Set the limit to the plan's "
                f"GPUs per pod."
            )
        for c in containers(t.spec):
            requests = dig(c, "resources", "requests") or {}
            limits = dig(c, "resources", "limits") or {}
            for res in GPU_RESOURCES:
                if res in requests and str(requests[res]) != str(limits.get(res)):
                    out.append(
                        f"{where}: container {c.get('name')!r} requests {res}="
                        f"{requests[res]} but limits it to {limits.get(res)}; GPUs "
                        f"cannot be overcommitted, set requests equal to limits."
                    )
    return out
