"""Where a service's vLLM compile cache lives on its shared volume (both backends).

One directory per layout: vLLM version, model, revision, TP × PP, GPU type, and
a hash of the exact vLLM arguments (dtype, quantization, max_num_seqs and the
capture sizes it implies all change what torch.compile produces). A new image,
revision or layout gets a new directory, so rollouts never mix caches; replicas
of one layout share one. The entrypoint (infra/llmpod/image/runtime/compile_cache.py) copies a
published directory in before vLLM starts and publishes one atomically after the
first replica of a layout has compiled.

The key is a single path component built only from sanitized parts ([a-z0-9._-],
no "..", at most 200 characters): it lands in a mount path, an environment
variable and (on AWS) a shell command.
"""

from __future__ import annotations

import hashlib
import json
import re

from llmpod.planning.service import ServicePlan

#: Mount point of the cache volume inside serving containers (k8s and AWS).
COMPILE_CACHE_MOUNT = "/var/cache/llmpod/compile"
#: Pod-local copy vLLM reads and writes (VLLM_CACHE_ROOT), on the /tmp emptyDir.
COMPILE_CACHE_LOCAL = "/tmp/llmpod/vllm-cache"
_PART_MAX = 48


def _part(text: str) -> str:
    clean = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.")
    clean = re.sub(r"\.{2,}", ".", clean)[:_PART_MAX].strip("-.")
    return clean or "x"


def _hash(value: object) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:8]


def compile_cache_key(sp: ServicePlan) -> str:
    e = sp.evaluation
    parts = {
        "vllm": sp.spec.image.vllm_version,
        "model": sp.plan.model,
        "revision": sp.spec.revision or "unpinned",
        "tp": e.tp,
        "pp": e.pp,
        "gpu": e.gpu.key,
        "args": list(sp.plan.vllm_args),
    }
    # The hash covers the raw parts too, so two models whose names sanitize
    # alike ("org/name" and "org-name") never share a directory.
    return "_".join(
        [
            f"vllm-{_part(sp.spec.image.vllm_version)}",
            _part(sp.plan.model),
            f"rev-{_part(sp.spec.revision or 'unpinned')}",
            f"tp{e.tp}-pp{e.pp}",
            _part(e.gpu.key),
            _hash(parts),
        ]
    )


def compile_cache_dir(sp: ServicePlan) -> str:
    return f"{COMPILE_CACHE_MOUNT}/{compile_cache_key(sp)}"
