"""Where GPU pods may run: product affinity, extra selectors, GPU taint tolerations."""

from __future__ import annotations

from typing import Any

from infra.spec.planning import ServicePlan

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
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": exprs}]}}}


def tolerations(sp: ServicePlan) -> list[dict[str, Any]]:
    """GPU node pools are usually tainted `<resource>:NoSchedule` (EKS, GKE, AKS
    GPU pools and the gpu-operator docs); without the toleration nothing schedules."""
    e = sp.evaluation
    if not sp.spec.kubernetes.tolerations_for_gpu_taint or e.gpu.vendor == "cpu":
        return []
    return [{"effect": "NoSchedule", "key": e.gpu.k8s_resource, "operator": "Exists"}]


def scheduling(sp: ServicePlan) -> dict[str, Any]:
    """Pod spec fields for placement (only the ones that apply)."""
    out: dict[str, Any] = {}
    affinity = node_affinity(sp)
    if affinity:
        out["affinity"] = affinity
    tols = tolerations(sp)
    if tols:
        out["tolerations"] = tols
    return out
