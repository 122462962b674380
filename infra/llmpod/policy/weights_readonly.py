"""Serving pods mount the weights volume read-only.

The loader Job fills the ReadWriteMany weights volume once; serving pods only
read it. A writable mount lets one bad replica (or a library writing a cache
next to the weights) corrupt the checkpoint every other replica loads. A
weights mount is one whose volume is a PersistentVolumeClaim or whose path is
/models (where llmpod's image expects weights); it is read-only when the
mount sets ``readOnly: true`` or the PVC volume source does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmpod import contract
from llmpod.policy.pods import containers, dig, is_serving, name_of, pod_templates, seq

WEIGHTS_PATH = contract.WEIGHTS_MOUNT
#: vLLM's compile cache: its own ReadWriteMany PVC that serving pods must write
#: (DESIGN.md "Compile cache"); the same path as llmpod.backends.compile_cache
#: (a test keeps them equal; not imported, so the pack stays light).
COMPILE_CACHE_PATH = "/var/cache/llmpod/compile"


def _is_weights_mount(mount: Mapping[str, Any], volume: Mapping[str, Any] | None) -> bool:
    path = str(mount.get("mountPath") or "").rstrip("/")
    if path == COMPILE_CACHE_PATH:
        return False
    on_models = path == WEIGHTS_PATH or path.startswith(WEIGHTS_PATH + "/")
    return on_models or isinstance(dig(volume, "persistentVolumeClaim"), Mapping)


def check_weights_read_only(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    out = []
    for t in pod_templates(resource_type, props):
        if not is_serving(resource_type, t) and t.role != "worker":
            continue
        volumes = {v.get("name"): v for v in seq(t.spec.get("volumes")) if isinstance(v, Mapping)}
        for c in containers(t.spec):
            for m in seq(c.get("volumeMounts")):
                if not isinstance(m, Mapping):
                    continue
                volume = volumes.get(m.get("name"))
                if not _is_weights_mount(m, volume):
                    continue
                if (
                    m.get("readOnly") is True
                    or dig(volume, "persistentVolumeClaim", "readOnly") is True
                ):
                    continue
                out.append(
                    f"{name_of(resource_type, props)} ({t.role} pod template): "
                    f"container {c.get('name')!r} mounts weights volume "
                    f"{m.get('name')!r} at {m.get('mountPath')} writable; set "
                    f"readOnly: true (only the loader Job writes weights)."
                )
    return out
