"""Find the pod templates inside Kubernetes workloads, as Pulumi passes them.

Props are the resource's inputs in Kubernetes API shape (``spec.template.spec``
for a Deployment). During a preview pulumi-policy wraps them in read-only
Mapping/Sequence proxies, so nothing here assumes ``dict`` or ``list``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Extended resources GPU device plugins register (NVIDIA, AMD).
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")
LWS = "kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet"
#: Workloads whose pods serve traffic (probes and read-only weights apply).
SERVING_KINDS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    LWS,
}
_TEMPLATE_PATHS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "kubernetes:apps/v1:Deployment": (("pod", ("spec", "template")),),
    "kubernetes:apps/v1:StatefulSet": (("pod", ("spec", "template")),),
    "kubernetes:apps/v1:DaemonSet": (("pod", ("spec", "template")),),
    "kubernetes:apps/v1:ReplicaSet": (("pod", ("spec", "template")),),
    "kubernetes:batch/v1:Job": (("pod", ("spec", "template")),),
    "kubernetes:batch/v1:CronJob": (("pod", ("spec", "jobTemplate", "spec", "template")),),
    "kubernetes:core/v1:Pod": (("pod", ()),),
    # leaderTemplate is optional: without it the leader runs the worker template
    # (LeaderWorkerSet v1 API, lws v0.6).
    LWS: (
        ("leader", ("spec", "leaderWorkerTemplate", "leaderTemplate")),
        ("worker", ("spec", "leaderWorkerTemplate", "workerTemplate")),
    ),
}


@dataclass(frozen=True)
class PodTemplate:
    role: str  # "pod", "leader" or "worker"
    metadata: Mapping[str, Any]
    spec: Mapping[str, Any]


def dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def seq(value: Any) -> list[Any]:
    """A list from a Sequence prop (never from a string); [] when absent."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def pod_templates(resource_type: str, props: Mapping[str, Any]) -> list[PodTemplate]:
    out = []
    for role, path in _TEMPLATE_PATHS.get(resource_type, ()):
        template = dig(props, *path) if path else props
        spec = dig(template, "spec")
        if isinstance(spec, Mapping):
            out.append(PodTemplate(role, dig(template, "metadata") or {}, spec))
    return out


def containers(spec: Mapping[str, Any], *, init: bool = True) -> Iterator[Mapping[str, Any]]:
    keys = ("initContainers", "containers") if init else ("containers",)
    for key in keys:
        yield from (c for c in seq(spec.get(key)) if isinstance(c, Mapping))


def gpu_limit(container: Mapping[str, Any]) -> int:
    limits = dig(container, "resources", "limits") or {}
    total = 0
    for name in GPU_RESOURCES:
        try:
            total += int(str(limits.get(name, 0)))
        except ValueError:
            continue
    return total


def gpu_product_labels(spec: Mapping[str, Any]) -> list[str]:
    """GPU product label values the pod is pinned to, by nodeSelector or required affinity.

    llmpod's Kubernetes backend uses required node affinity (``In`` over the
    catalog's labels, so e.g. both H200 label spellings match); hand-written
    manifests often use a plain nodeSelector. Both count.
    """
    out = [
        str(v)
        for k, v in sorted((dig(spec, "nodeSelector") or {}).items())
        if str(k).endswith("gpu.product")
    ]
    terms = dig(
        spec,
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    for term in seq(terms):
        for expr in seq(dig(term, "matchExpressions")):
            if (
                isinstance(expr, Mapping)
                and str(expr.get("key", "")).endswith("gpu.product")
                and expr.get("operator") == "In"
            ):
                out += [str(v) for v in seq(expr.get("values"))]
    return out


def wants_gpu(spec: Mapping[str, Any]) -> str | None:
    """Why this pod is a GPU pod (scheduled onto or asking for GPUs), or None."""
    labels = gpu_product_labels(spec)
    if labels:
        return f"pinned to nvidia.com/gpu.product {', '.join(labels)}"
    for t in seq(spec.get("tolerations")):
        if isinstance(t, Mapping) and t.get("key") in GPU_RESOURCES:
            return f"toleration for {t.get('key')}"
    for c in containers(spec):
        requests = dig(c, "resources", "requests") or {}
        for name in GPU_RESOURCES:
            if name in requests or name in (dig(c, "resources", "limits") or {}):
                return f"container {c.get('name')!r} names {name}"
    return None


def name_of(resource_type: str, props: Mapping[str, Any]) -> str:
    kind = resource_type.rsplit(":", 1)[-1]
    return f"{kind} {dig(props, 'metadata', 'name') or '(unnamed)'}"


def is_serving(resource_type: str, template: PodTemplate) -> bool:
    # LWS workers run Ray workers for the leader's vLLM engine; they serve no HTTP.
    return resource_type in SERVING_KINDS and template.role != "worker"
