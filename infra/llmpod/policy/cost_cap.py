"""Per-stack cap on GPUs and GPU cost per hour, at the autoscalers' ceilings.

The planner enforces ``llmpod:costCapPerHour`` on what it plans; this policy
checks what is actually registered — including resources written by hand and
autoscalers that can grow a service past its planned replicas. GPUs are
counted from container limits × pods at the replica ceiling; a LeaderWorkerSet
group is one leader pod plus ``size - 1`` workers. Prices come from the GPU
catalog via the pod's ``nvidia.com/gpu.product`` node selector or required
node affinity (GPU Feature Discovery label), overridable per label or GPU key
in the policy config.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmpod.policy.pods import (
    LWS,
    PodTemplate,
    containers,
    dig,
    gpu_limit,
    gpu_product_labels,
    pod_templates,
)
from llmpod.policy.scaling import WORKLOAD_KINDS, Resource, scale_of


@dataclass(frozen=True)
class GpuUse:
    urn: str
    gpus: int
    price: float | None  # per GPU-hour; None when it cannot be priced


def _price(template: PodTemplate, overrides: Mapping[str, float]) -> float | None:
    """Per-GPU-hour price; the dearest when the pod may land on several GPU types."""
    from llmpod.gpus.catalog import all_gpus

    prices = []
    for label in gpu_product_labels(template.spec):
        if label in overrides:
            prices.append(float(overrides[label]))
            continue
        for gpu in all_gpus():
            if label in gpu.k8s_product_labels:
                prices.append(float(overrides.get(gpu.key, gpu.price_per_gpu_hour)))
    return max(prices) if prices else None


def _pod_gpus(template: PodTemplate) -> int:
    return sum(gpu_limit(c) for c in containers(template.spec, init=False))


def gpu_use(resources: Sequence[Resource], overrides: Mapping[str, float]) -> list[GpuUse]:
    out = []
    for r in resources:
        if r.type not in WORKLOAD_KINDS:
            continue
        ceiling = scale_of(r, resources).ceiling
        templates = {t.role: t for t in pod_templates(r.type, r.props)}
        pods: list[tuple[PodTemplate, int]]
        if r.type == LWS:
            size = int(dig(r.props, "spec", "leaderWorkerTemplate", "size") or 1)
            worker = templates.get("worker")
            leader = templates.get("leader", worker)
            pods = [(t, n) for t, n in ((leader, 1), (worker, size - 1)) if t is not None]
        else:
            pods = [(t, 1) for t in templates.values()]
        for template, count in pods:
            gpus = _pod_gpus(template) * count * ceiling
            if gpus:
                out.append(GpuUse(r.urn, gpus, _price(template, overrides)))
    return out


def check_cost_cap(resources: Sequence[Resource], config: Mapping[str, Any]) -> list[str]:
    max_gpus = config.get("maxGpus")
    max_cost = config.get("maxCostPerHour")
    overrides = dict(config.get("pricePerGpuHour") or {})
    uses = gpu_use(resources, overrides)
    total_gpus = sum(u.gpus for u in uses)
    out = []
    if max_gpus is not None and total_gpus > int(max_gpus):
        out.append(
            f"the stack can run {total_gpus} GPUs at its replica ceilings, above the "
            f"cap maxGpus={max_gpus} ({total_gpus} GPU-hours per hour); lower "
            f"replicas.max or raise the cap in the policy config."
        )
    if max_cost is not None:
        unpriced = sorted({u.urn or "(unnamed)" for u in uses if u.price is None})
        if unpriced:
            out.append(
                f"cannot price the GPUs of {', '.join(unpriced)}: no "
                f"nvidia.com/gpu.product node selector the catalog knows; add one or set "
                f"pricePerGpuHour in the policy config."
            )
        cost = round(sum(u.gpus * (u.price or 0.0) for u in uses), 2)
        if cost > float(max_cost):
            out.append(
                f"the stack can cost ${cost:,.2f}/hour at its replica ceilings, above "
                f"the cap maxCostPerHour=${float(max_cost):,.2f}; lower replicas.max or "
                f"raise llmpod:costCapPerHour and the policy config together."
            )
    return out
