"""All Kubernetes objects of one planned service, in a stable order."""

from __future__ import annotations

from typing import Any

from llmpod.k8s.compile_cache import compile_cache_pvc
from llmpod.k8s.dashboard import dashboard_config_map
from llmpod.k8s.deployment import deployment
from llmpod.k8s.lws import leader_worker_set, ray_script
from llmpod.k8s.names import metadata, names_for
from llmpod.k8s.network import network_policy, pod_disruption_budget, service, service_account
from llmpod.k8s.pod import plan_json
from llmpod.k8s.scaling import scaled_object, service_monitor
from llmpod.k8s.sizing import pod_size
from llmpod.k8s.weights import (
    loader_job,
    loader_network_policy,
    pvc,
    require_rwx_storage_class,
    scripts,
)
from llmpod.planning.service import ServicePlan


def config_maps(sp: ServicePlan) -> list[dict[str, Any]]:
    n = names_for(sp)
    files = scripts(sp)
    if pod_size(sp).nodes > 1:
        files["ray-node.sh"] = ray_script(sp)
    return [
        {
            "apiVersion": "v1",
            "data": {"plan.json": plan_json(sp)},
            "kind": "ConfigMap",
            "metadata": metadata(sp, n.plan_config),
        },
        {
            "apiVersion": "v1",
            "data": dict(sorted(files.items())),
            "kind": "ConfigMap",
            "metadata": metadata(sp, n.scripts_config),
        },
    ]


def build_manifests(sp: ServicePlan) -> list[dict[str, Any]]:
    """Storage and config first, then the loader, the workload and its network."""
    require_rwx_storage_class(sp)
    multi = pod_size(sp).nodes > 1
    objects = [
        service_account(sp),
        pvc(sp),
        compile_cache_pvc(sp),
        *config_maps(sp),
        loader_job(sp),
        leader_worker_set(sp) if multi else deployment(sp),
        service(sp),
        pod_disruption_budget(sp),
        network_policy(sp),
        loader_network_policy(sp),
    ]
    if sp.spec.replicas.autoscale:
        objects.append(scaled_object(sp))
    if sp.spec.kubernetes.service_monitor:
        objects.append(service_monitor(sp))
        objects.append(dashboard_config_map(sp))
    if sp.skip_await:
        objects = [_skip_await(obj) for obj in objects]
    return objects


def _skip_await(obj: dict[str, Any]) -> dict[str, Any]:
    """The same object with pulumi-kubernetes' ``pulumi.com/skipAwait`` annotation
    (annotations kept sorted, so previews never churn)."""
    meta = obj["metadata"]
    annotations = {**meta.get("annotations", {}), "pulumi.com/skipAwait": "true"}
    return {**obj, "metadata": {**meta, "annotations": dict(sorted(annotations.items()))}}
