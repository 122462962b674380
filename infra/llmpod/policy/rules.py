"""The policy pack as plain data: each policy's name, description, config schema
and pure rule. pulumi-policy wraps these (pack.py) for `pulumi preview
--policy-pack`; `llmpod render` runs the same rules over what it rendered
(infra/llmpod/render/policy_report.py), so both report the same violations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmpod.policy.cost_cap import check_cost_cap
from llmpod.policy.gpu_limits import check_gpu_limits
from llmpod.policy.images import check_images_pinned
from llmpod.policy.privileged import check_not_privileged
from llmpod.policy.probes import check_probes
from llmpod.policy.replicas import check_production_replicas
from llmpod.policy.scaling import Resource
from llmpod.policy.weights_readonly import check_weights_read_only

PACK_NAME = "llmpod"
ENVIRONMENT_SCHEMA = {"environment": {"type": "string", "enum": ["dev", "staging", "production"]}}
COST_CAP_SCHEMA = {
    "maxGpus": {"type": "integer", "minimum": 0},
    "maxCostPerHour": {"type": "number", "minimum": 0},
    "pricePerGpuHour": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
}

#: (resource type, props, this policy's config) → messages
ResourceCheck = Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[str]]
#: (all resources, this policy's config) → (urn or None, message)
StackCheck = Callable[[Sequence[Resource], Mapping[str, Any]], list[tuple[str | None, str]]]


@dataclass(frozen=True)
class ResourceRule:
    name: str
    description: str
    check: ResourceCheck
    config_schema: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    check: StackCheck
    config_schema: dict[str, Any] = field(default_factory=dict)


def _replicas(
    resources: Sequence[Resource], config: Mapping[str, Any]
) -> list[tuple[str | None, str]]:
    return [
        (urn or None, message)
        for urn, message in check_production_replicas(resources, config.get("environment"))
    ]


def _cost(resources: Sequence[Resource], config: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    return [(None, message) for message in check_cost_cap(resources, config)]


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "llmpod-gpu-limits",
        "GPU pods set nvidia.com/gpu limits (= requests)",
        lambda t, p, _c: check_gpu_limits(t, p),
    ),
    ResourceRule(
        "llmpod-serving-probes",
        "serving containers have startup, readiness and liveness probes",
        lambda t, p, _c: check_probes(t, p),
    ),
    ResourceRule(
        "llmpod-weights-read-only",
        "serving pods mount weights read-only",
        lambda t, p, _c: check_weights_read_only(t, p),
    ),
    ResourceRule(
        "llmpod-images-pinned",
        "images use a version tag (not latest); production needs a digest",
        lambda t, p, c: check_images_pinned(t, p, c.get("environment")),
        ENVIRONMENT_SCHEMA,
    ),
    ResourceRule(
        "llmpod-no-privileged",
        "no privileged containers",
        lambda t, p, _c: check_not_privileged(t, p),
    ),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "llmpod-production-replicas",
        "production GPU workloads have ≥ 2 replicas (on AWS: on ≥ 2 instances) or an "
        "llmpod.dev/pdb-waiver annotation (AWS: tag)",
        _replicas,
        ENVIRONMENT_SCHEMA,
    ),
    StackRule(
        "llmpod-stack-cost-cap",
        "GPUs and GPU cost per hour at replica ceilings stay under the caps",
        _cost,
        COST_CAP_SCHEMA,
    ),
)
