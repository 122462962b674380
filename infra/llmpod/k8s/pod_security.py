"""Hardened security contexts shared by every llmpod pod.

The Pod Security Standards "restricted" profile (Kubernetes ≥ 1.25): non-root,
no privilege escalation, seccomp RuntimeDefault, all capabilities dropped.
GPU access needs none of these privileges: the device plugin injects the
device nodes into the container.
"""

from __future__ import annotations

from typing import Any

from llmpod.k8s import contract as c


def pod_security() -> dict[str, Any]:
    return {
        # A numeric user: the kubelet can only verify runAsNonRoot for numbers.
        "fsGroup": c.RUN_AS_USER,
        # Without this the kubelet chowns every file of a 600 GB weights volume on
        # each mount, which can take longer than the startup budget.
        "fsGroupChangePolicy": "OnRootMismatch",
        "runAsGroup": c.RUN_AS_USER,
        "runAsNonRoot": True,
        "runAsUser": c.RUN_AS_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict[str, Any]:
    """readOnlyRootFilesystem: the containers write only to emptyDirs mounted at
    /tmp and $HOME (vLLM, torch.compile, Triton and Ray caches) and to /dev/shm."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": c.RUN_AS_USER,
    }
