"""How traffic reaches the pods: Service, NetworkPolicy, PodDisruptionBudget."""

from __future__ import annotations

from typing import Any

from llmpod.k8s import contract as c
from llmpod.k8s.lws import leader_labels
from llmpod.k8s.names import metadata, names_for, selector_labels
from llmpod.k8s.sizing import pod_size
from llmpod.planning.service import ServicePlan


def serving_selector(sp: ServicePlan) -> dict[str, str]:
    """Only pods that run vLLM's API: the leader of a multi-node group (its
    workers only run Ray), every pod of a Deployment."""
    return leader_labels(sp) if pod_size(sp).nodes > 1 else selector_labels(sp)


def service(sp: ServicePlan) -> dict[str, Any]:
    # No publishNotReadyAddresses: endpoints list only pods whose readiness
    # (/ready: warmed up, not draining) passes, so no traffic reaches a pod
    # that is loading, warming up or shutting down.
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(sp, names_for(sp).service),
        "spec": {
            "ports": [
                {"name": "http", "port": c.SERVICE_PORT, "protocol": "TCP", "targetPort": "http"}
            ],
            "selector": serving_selector(sp),
            "type": "ClusterIP",
        },
    }


def pod_disruption_budget(sp: ServicePlan) -> dict[str, Any]:
    """At most one pod (one multi-node group, which LWS then recreates) evicted
    at a time by drains and cluster upgrades. AlwaysAllow lets a drain evict a
    pod that is still loading instead of blocking the node upgrade on it."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(sp, names_for(sp).service),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector_labels(sp)},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


def scraped(sp: ServicePlan) -> bool:
    """Prometheus must reach /metrics: a ServiceMonitor scrapes it, and the
    autoscaler's query reads what was scraped."""
    return sp.spec.kubernetes.service_monitor or sp.spec.replicas.autoscale


def admitted_namespaces(sp: ServicePlan) -> list[dict[str, Any]]:
    """NetworkPolicy peers for ``kubernetes.allowed_namespaces`` (by name) and
    ``kubernetes.allowed_namespace_labels`` (every namespace carrying all the labels);
    either peer admits. Sorted, so previews never churn."""
    k = sp.spec.kubernetes
    peers: list[dict[str, Any]] = []
    names = sorted(set(k.allowed_namespaces))
    if names:
        peers.append(
            {
                "namespaceSelector": {
                    "matchExpressions": [
                        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": names}
                    ]
                }
            }
        )
    if k.allowed_namespace_labels:
        labels = dict(sorted(k.allowed_namespace_labels.items()))
        peers.append({"namespaceSelector": {"matchLabels": labels}})
    return peers


def network_policy(sp: ServicePlan) -> dict[str, Any]:
    """Ingress to the serving port only from the spec's admitted namespaces (and
    from Prometheus's namespace when the metrics there are scraped).

    Multi-node groups also talk among themselves (Ray GCS, object store, NCCL
    on dynamic ports), so pods of the same service may reach each other on any
    port; a policy without that rule breaks `ray start` on the workers. The
    probe port needs no rule: kubelet probes come from the node, which
    NetworkPolicy implementations allow.
    """
    ingress: list[dict[str, Any]] = []
    peers = admitted_namespaces(sp)
    if peers:
        ingress.append({"from": peers, "ports": [{"port": c.VLLM_PORT, "protocol": "TCP"}]})
    if scraped(sp):
        # vLLM serves /metrics on the API port: without this rule the ServiceMonitor's
        # scrapes time out and KEDA's queue query sees no data, so nothing scales.
        prometheus_ns = sp.spec.kubernetes.prometheus_namespace
        ingress.append(
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": prometheus_ns}
                        }
                    }
                ],
                "ports": [{"port": c.VLLM_PORT, "protocol": "TCP"}],
            }
        )
    if pod_size(sp).nodes > 1:
        ingress.append({"from": [{"podSelector": {"matchLabels": selector_labels(sp)}}]})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(sp, names_for(sp).service),
        "spec": {
            "ingress": ingress,
            "podSelector": {"matchLabels": selector_labels(sp)},
            "policyTypes": ["Ingress"],
        },
    }


def service_account(sp: ServicePlan) -> dict[str, Any]:
    """A dedicated identity (for IRSA / Workload Identity on the loader) that
    mounts no API token: nothing in these pods talks to the Kubernetes API."""
    return {
        "apiVersion": "v1",
        "automountServiceAccountToken": False,
        "kind": "ServiceAccount",
        "metadata": metadata(sp, names_for(sp).service_account),
    }
