"""Replica floors and ceilings of workloads, including their autoscalers.

Stack policies see every resource, so a Deployment's count is read together
with the HorizontalPodAutoscaler or KEDA ScaledObject that targets it: the
autoscaler's minimum is the real floor, its maximum the real ceiling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmpod.policy.pods import LWS, dig

WORKLOAD_KINDS = {"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", LWS}
HPA_TYPES = (
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
)
KEDA = "kubernetes:keda.sh/v1alpha1:ScaledObject"
# KEDA v2 defaults (keda.sh/docs/2.x/reference/scaledobject-spec): min 0, max 100.
_KEDA_MIN, _KEDA_MAX = 0, 100


@dataclass(frozen=True)
class Resource:
    """What a stack policy sees of one resource (pulumi-policy's PolicyResource)."""

    type: str
    props: Mapping[str, Any]
    urn: str = ""


@dataclass(frozen=True)
class Scale:
    floor: int
    ceiling: int
    autoscaler: str | None


def _int(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def _kind(resource_type: str) -> str:
    return resource_type.rsplit(":", 1)[-1]


def scale_of(workload: Resource, resources: Sequence[Resource]) -> Scale:
    # Kubernetes defaults spec.replicas to 1 for all three kinds (LWS: groups).
    replicas = _int(dig(workload.props, "spec", "replicas"), 1)
    name = dig(workload.props, "metadata", "name")
    kind = _kind(workload.type)
    for r in resources:
        ref = dig(r.props, "spec", "scaleTargetRef") or {}
        if ref.get("name") != name or ref.get("kind", "Deployment") != kind:
            continue
        if r.type in HPA_TYPES:
            return Scale(
                _int(dig(r.props, "spec", "minReplicas"), 1),
                _int(dig(r.props, "spec", "maxReplicas"), replicas),
                "HPA",
            )
        if r.type == KEDA:
            return Scale(
                _int(dig(r.props, "spec", "minReplicaCount"), _KEDA_MIN),
                _int(dig(r.props, "spec", "maxReplicaCount"), _KEDA_MAX),
                "ScaledObject",
            )
    return Scale(replicas, replicas, None)
