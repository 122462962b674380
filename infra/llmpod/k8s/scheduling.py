"""Where GPU pods may run: product affinity, extra selectors, GPU taint tolerations."""

from __future__ import annotations

from typing import Any

from llmpod.planning.service import ServicePlan

#: Node label carrying the GPU product, per vendor: NVIDIA GPU Feature Discovery
#: (gpu-operator) sets nvidia.com/gpu.product; the AMD GPU operator's node
#: labeller sets amd.com/gpu.product-name.
PRODUCT_LABEL_KEY = {"nvidia": "nvidia.com/gpu.product", "amd": "amd.com/gpu.product-name"}


def node_affinity(sp: ServicePlan) -> dict[str, Any] | None:
    """Required affinity on the catalog's product labels (+ the spec's extra selector).

    A plan sized for 80 GB H100s that lands on a 40 GB A100 dies with CUDA OOM
    at load time; "In" on every label value the catalog knows (e.g. H200 has two
    spellings across GFD versions) avoids both that and Pending pods caused by
    one unexpected spelling.
    """
    e = sp.evaluation
    exprs: list[dict[str, Any]] = []
    key = PRODUCT_LABEL_KEY.get(e.gpu.vendor)
    if key and e.gpu.k8s_product_labels:
        exprs.append({"key": key, "operator": "In", "values": sorted(e.gpu.k8s_product_labels)})
    for label, value in sorted(sp.spec.kubernetes.extra_node_selector.items()):
        exprs.append({"key": label, "operator": "In", "values": [value]})
    if not exprs:
        return None
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": exprs}]
            }
        }
    }


def tolerations(sp: ServicePlan) -> list[dict[str, Any]]:
    """GPU node pools are usually tainted `<resource>:NoSchedule` (EKS, GKE, AKS
    GPU pools and the gpu-operator docs); without the toleration nothing schedules."""
    e = sp.evaluation
    if not sp.spec.kubernetes.tolerations_for_gpu_taint or e.gpu.vendor == "cpu":
        return []
    return [{"effect": "NoSchedule", "key": e.gpu.k8s_resource, "operator": "Exists"}]


def max_replicas(sp: ServicePlan) -> int:
    """Most replicas this workload can run: the plan's, or the autoscaler's ceiling."""
    ceiling = sp.spec.replicas.max if sp.spec.replicas.autoscale else 0
    return max(sp.plan.replicas, ceiling)


def topology_spread(
    sp: ServicePlan, labels: dict[str, str], *, revision_key: str | None
) -> list[dict[str, Any]]:
    """Spread replicas over nodes (hard) and zones (soft) once there are two or more.

    Without it the scheduler may pack every replica onto one node, and a single
    node failure or drain takes the whole service down despite its replicas.
    Hostname uses DoNotSchedule: only nodes the pod may run on (its GPU
    affinity; nodeAffinityPolicy Honor, the default) count as domains, so one
    GPU node still runs every replica. Zones are ScheduleAnyway: GPU capacity is
    often in one zone only. ``revision_key`` (Deployment: pod-template-hash,
    matchLabelKeys beta since Kubernetes 1.27) spreads each rollout's new pods
    on their own instead of counting the old ones being replaced.
    """
    if max_replicas(sp) < 2:
        return []
    out = []
    for key, when in (
        ("kubernetes.io/hostname", "DoNotSchedule"),
        ("topology.kubernetes.io/zone", "ScheduleAnyway"),
    ):
        rule: dict[str, Any] = {
            "labelSelector": {"matchLabels": dict(sorted(labels.items()))},
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": when,
        }
        if revision_key:
            rule["matchLabelKeys"] = [revision_key]
        out.append(dict(sorted(rule.items())))
    return out


def scheduling(
    sp: ServicePlan, labels: dict[str, str], *, revision_key: str | None = None
) -> dict[str, Any]:
    """Pod spec fields for placement (only the ones that apply); ``labels`` are
    the pod's own, which the spread constraints count."""
    out: dict[str, Any] = {}
    affinity = node_affinity(sp)
    if affinity:
        out["affinity"] = affinity
    tols = tolerations(sp)
    if tols:
        out["tolerations"] = tols
    spread = topology_spread(sp, labels, revision_key=revision_key)
    if spread:
        out["topologySpreadConstraints"] = spread
    return out
