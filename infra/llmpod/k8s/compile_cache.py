"""The compile-cache volume of a service: a ReadWriteMany PVC serving pods write.

A separate claim, not a subPath of the weights volume: the weights stay mounted
read-only in every serving pod (a writable mount of the same claim would let a
compromised pod rewrite the checkpoint), while this one must be writable by the
pods' user. Its root is made group-writable by the kubelet through the pod's
fsGroup (pod_security: fsGroup 10001, fsGroupChangePolicy OnRootMismatch), the
same way the loader Job writes the weights volume; on storage whose CSI driver
ignores fsGroup (some NFS provisioners) the claim's root must be writable by
uid/gid 10001, as for the weights volume. What is inside and how concurrent
first starts are kept apart: infra/llmpod/backends/compile_cache.py and
infra/llmpod/image/runtime/compile_cache.py.
"""

from __future__ import annotations

from typing import Any

from llmpod.backends.compile_cache import (
    COMPILE_CACHE_LOCAL,
    COMPILE_CACHE_MOUNT,
    compile_cache_dir,
)
from llmpod.k8s.names import Names, metadata, names_for
from llmpod.planning.service import ServicePlan

#: A layout's cache is tens to a few hundred MiB per rank (Inductor + Triton
#: artifacts); 20 GiB holds many layouts and vLLM upgrades before anyone prunes.
COMPILE_CACHE_GIB = 20
VOLUME = "compile-cache"


def compile_cache_pvc(sp: ServicePlan) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteMany"],  # every replica reads it, any may publish
        "resources": {"requests": {"storage": f"{COMPILE_CACHE_GIB}Gi"}},
    }
    if sp.spec.weights.storage_class:
        spec["storageClassName"] = sp.spec.weights.storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        # WaitForFirstConsumer classes bind when a serving pod is scheduled.
        "metadata": metadata(
            sp,
            names_for(sp).compile_cache_pvc,
            "compile-cache",
            annotations={"pulumi.com/skipAwait": "true"},
        ),
        "spec": spec,
    }


def compile_cache_volume(names: Names) -> dict[str, Any]:
    return {"name": VOLUME, "persistentVolumeClaim": {"claimName": names.compile_cache_pvc}}


def compile_cache_mount() -> dict[str, Any]:
    return {"mountPath": COMPILE_CACHE_MOUNT, "name": VOLUME}


def compile_cache_env(sp: ServicePlan) -> dict[str, str]:
    return {
        "LLMPOD_COMPILE_CACHE_DIR": compile_cache_dir(sp),
        "LLMPOD_COMPILE_CACHE_LOCAL": COMPILE_CACHE_LOCAL,
    }
