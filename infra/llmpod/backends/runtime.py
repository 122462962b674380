"""What both backends hand the serving container: the plan file and time budgets.

The plan file is the contract with the image's entrypoint
(infra/llmpod/image/runtime/plan_file.py): ``vllm_args`` verbatim plus the warmup recipe.
Kubernetes mounts it from a ConfigMap; AWS instances get it from cloud-init.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from llmpod.backends.fetches import extra_weights_gib
from llmpod.errors import LlmpodError
from llmpod.planning.service import ServicePlan

#: The startup probe and the Pulumi/AWS waits allow this multiple of the plan's
#: startup estimate. A probe that fires too early kills a pod that was about to
#: come up, and the restarted pod starts again from zero (a crash loop that never
#: ends), while waiting too long only delays noticing a wedged start by minutes.
#: ×2 covers: engine-init coefficients fit to one GPU type (H200; other
#: generations are extrapolated), compile time varying with the architecture,
#: and two replicas starting together sharing the volume's read bandwidth.
STARTUP_SAFETY_FACTOR = 2.0
#: Never budget less than this: small models on slow volumes still need it.
MIN_STARTUP_S = 300
STARTUP_PERIOD_S = 10


POOLING_WARMUP_APIS = {"embed": "embeddings", "classify": "score"}


def warmup_config(sp: ServicePlan) -> dict[str, Any]:
    e = sp.evaluation
    per_replica = max(
        1, min(e.concurrent_requests, math.ceil(sp.spec.targets.concurrency / sp.plan.replicas))
    )
    return {
        "enabled": True,
        "prompt_tokens": sorted(set(sp.spec.warmup.prompt_lengths)),
        "near_max_context": True,
        "concurrency": per_replica,
        "batch_prompt_tokens": min(512, e.settings.max_model_len // 2),
        "max_tokens": sp.spec.warmup.max_tokens,
        # A pooling model has no /v1/completions (vLLM 0.32 serves embeddings
        # and scores from the pooling runner's own routes).
        **({"api": POOLING_WARMUP_APIS[task]} if (task := e.settings.pooling_task) else {}),
    }


def expected_figures(sp: ServicePlan) -> dict[str, int]:
    """What vLLM must report once running; the entrypoint checks it (plan_check.py)."""
    e = sp.plan.evaluation
    assert e is not None
    if e.settings.no_kv_cache:  # encoder-only: vLLM allocates no KV cache to compare
        return {"block_size": e.settings.block_size}
    return {"block_size": e.settings.block_size, "kv_cache_tokens": e.capacity.tokens}


def plan_file_payload(sp: ServicePlan) -> dict[str, Any]:
    """The JSON the entrypoint reads (LLMPOD_PLAN_FILE)."""
    return {
        "expected": expected_figures(sp),
        "vllm_args": list(sp.plan.vllm_args),
        "warmup": warmup_config(sp),
    }


def plan_file_text(payload: Mapping[str, Any]) -> str:
    """The plan file's bytes, the same for every backend.

    Written by the image's own writer, which parses what it wrote: a document
    the entrypoint would refuse stops `llmpod render` / `pulumi preview` here
    instead of crash-looping the container.
    """
    from llmpod.image.runtime.plan_file import PlanFileError, render_plan_document

    try:
        return render_plan_document(
            list(payload["vllm_args"]), payload.get("warmup"), payload.get("expected")
        )
    except PlanFileError as exc:
        raise LlmpodError(
            code="invalid_plan_file",
            message=str(exc),
            suggestions=["this is a bug in llmpod's planner; please report it"],
        ) from None


def startup_estimate_s(sp: ServicePlan) -> float:
    """The plan's estimate for a replica that finds no compile cache (seconds).

    Probes and waits use the cold figure: any pod can be the first of its cache
    key (a new vLLM version, revision or layout), and every pod of a fresh
    Deployment starts at once. Replicas after the first take
    ``startup_s.total_warm_cache``.
    """
    return sp.estimates["startup_s"]["total"]


def startup_budget_s(sp: ServicePlan) -> int:
    """Seconds a replica may take from container start to vLLM /health.

    STARTUP_SAFETY_FACTOR × the plan's startup estimate (process start +
    checkpoint / volume bandwidth + cold engine init, infra/llmpod/planner/startup.py),
    in whole probe periods, at least MIN_STARTUP_S. A fixed 60×10 s probe kills
    70B pods that are still reading 140 GB.
    """
    budget = STARTUP_SAFETY_FACTOR * startup_estimate_s(sp)
    return int(max(MIN_STARTUP_S, math.ceil(budget / STARTUP_PERIOD_S) * STARTUP_PERIOD_S))


def vllm_env(sp: ServicePlan) -> dict[str, str]:
    """Environment vLLM reads besides its flags, the same on every backend.

    VLLM_ALLOW_RUNTIME_LORA_UPDATING (vllm/envs.py, 0.26.0-0.32.0: "1" or "true",
    any case) opens /v1/load_lora_adapter and /v1/unload_lora_adapter to every
    client: set only when the spec's vllm.allow_runtime_lora_updating says so."""
    if sp.spec.vllm.allow_runtime_lora_updating:
        return {"VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True"}
    return {}


def volume_size_gib(sp: ServicePlan) -> int:
    """Weights volume: the checkpoint, the draft and adapters the loader also fetches,
    plus 20% (tokenizer, partial downloads), whole GiB."""
    if sp.spec.weights.size_gib:
        return math.ceil(sp.spec.weights.size_gib)
    return max(10, math.ceil((sp.plan.weights_gib_total + extra_weights_gib(sp)) * 1.2))
