"""Production GPU workloads run at least two replicas, or carry a PDB waiver.

On AWS the replicas must also sit on two or more instances (policy/aws_fleet.py).

With one replica, a node drain or a GPU failure takes the service down, and a
PodDisruptionBudget cannot help (minAvailable 1 of 1 blocks drains forever).
Some services are deliberately single (a 16-GPU DeepSeek replica costs
$110/h); they say so with the waiver annotation on the workload:

    metadata.annotations["llmpod.dev/pdb-waiver"]: "<why one replica is acceptable>"

The reason must be non-blank, so the waiver is a reviewed sentence, not a flag.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmpod.policy.aws_fleet import WAIVER_TAG, aws_fleets
from llmpod.policy.pods import dig, name_of, pod_templates, wants_gpu
from llmpod.policy.scaling import WORKLOAD_KINDS, Resource, scale_of

WAIVER = WAIVER_TAG


def check_production_replicas(
    resources: Sequence[Resource], environment: str | None
) -> list[tuple[str, str]]:
    """(urn, message) per production GPU workload with fewer than 2 replicas and no waiver."""
    if environment != "production":
        return []
    out = []
    for r in resources:
        if r.type not in WORKLOAD_KINDS:
            continue
        if not any(wants_gpu(t.spec) for t in pod_templates(r.type, r.props)):
            continue
        scale = scale_of(r, resources)
        if scale.floor >= 2:
            continue
        waiver = str((dig(r.props, "metadata", "annotations") or {}).get(WAIVER) or "").strip()
        if waiver:
            continue
        via = f" (its {scale.autoscaler} minimum)" if scale.autoscaler else ""
        out.append(
            (
                r.urn,
                f"{name_of(r.type, r.props)} runs {scale.floor} replica(s){via} in "
                f"production; set replicas.min ≥ 2, or annotate the workload "
                f'{WAIVER}: "<reason>" if a single replica is accepted.',
            )
        )
    return out + _aws_fleets_without_spare(resources)


def _aws_fleets_without_spare(resources: Sequence[Resource]) -> list[tuple[str, str]]:
    """AWS services: two replicas on one instance are one failure domain, so the
    rule counts instances as well as replicas (waiver: the same key, as a tag on
    the service's Auto Scaling groups, from replicas.single_replica_reason)."""
    out = []
    for fleet in aws_fleets(resources):
        if (fleet.replicas >= 2 and fleet.instances >= 2) or fleet.waiver:
            continue
        if fleet.replicas < 2:
            problem = f"runs {fleet.replicas} replica(s) in production; set replicas.min ≥ 2"
        else:
            problem = (
                f"runs its {fleet.replicas} replicas on {fleet.instances} instance in "
                f"production, so one instance failure or refresh takes every replica "
                f"down; spread them over 2+ instances (Auto Scaling group minSize ≥ 2)"
            )
        out.append(
            (
                fleet.urn,
                f"AWS service {fleet.service} {problem}, or set "
                f"replicas.single_replica_reason (tagged {WAIVER} on its Auto Scaling "
                f"groups) if that is accepted.",
            )
        )
    return out
