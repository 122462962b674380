"""Optional custom resources: KEDA ScaledObject and Prometheus Operator ServiceMonitor."""

from __future__ import annotations

from typing import Any

from llmpod.escaping import promql_string
from llmpod.k8s.names import metadata, names_for, selector_labels
from llmpod.k8s.sizing import pod_size
from llmpod.planning.service import ServicePlan
from llmpod.releases.for_release import metric_name

#: How often KEDA polls.
POLLING_INTERVAL_S = 15
#: KEDA's cooldownPeriod: only the wait before scaling to zero (KEDA v2.20
#: keda.sh_scaledobjects.yaml, ScaledObject docs), so it never slows a scale-in
#: from 3 replicas to 2; SCALE_DOWN_WINDOW_S does that.
COOLDOWN_S = 600
#: The HPA's scale-down stabilisation (KEDA passes advanced.horizontalPodAutoscalerConfig
#: .behavior to the HPA it creates): the replica count follows the highest
#: recommendation of the last 10 minutes. A replica takes minutes to load and warm
#: up, so the HPA default of 300 s would drop one between two bursts and pay that
#: start again; and at most one replica leaves per SCALE_DOWN_PERIOD_S.
SCALE_DOWN_WINDOW_S = 600
SCALE_DOWN_PERIOD_S = 300
#: The queue gauge's names, newest first (as llmpod.releases.metric_names.WAITING); the
#: query names the one the service's vLLM release exports.
WAITING_NAMES = ("vllm:num_requests_waiting",)


def queue_query(sp: ServicePlan) -> str:
    """Waiting requests across the service's pods. vLLM labels its metrics with
    model_name = --served-model-name (vLLM ≥ 0.6 metric vllm:num_requests_waiting).
    Label values are PromQL string literals (escaped), so a model directory named
    ``x"} or vector(1) #`` stays one value instead of rewriting the query."""
    namespace = promql_string(sp.spec.kubernetes.namespace)
    model = promql_string(sp.model.served_name)
    waiting = metric_name(WAITING_NAMES, sp.spec.image.vllm_version)
    return f"sum({waiting}{{namespace={namespace},model_name={model}}})"


def scaled_object(sp: ServicePlan) -> dict[str, Any]:
    """KEDA (keda.sh/v1alpha1) scales on the queue: `threshold` is waiting
    requests per replica (the trigger's metricType defaults to AverageValue)."""
    multi = pod_size(sp).nodes > 1
    target = (
        {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet"}
        if multi
        else {"apiVersion": "apps/v1", "kind": "Deployment"}
    )
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": metadata(sp, names_for(sp).workload),
        "spec": {
            "advanced": {
                "horizontalPodAutoscalerConfig": {
                    "behavior": {
                        "scaleDown": {
                            "policies": [
                                {"periodSeconds": SCALE_DOWN_PERIOD_S, "type": "Pods", "value": 1}
                            ],
                            "stabilizationWindowSeconds": SCALE_DOWN_WINDOW_S,
                        }
                    }
                }
            },
            "cooldownPeriod": COOLDOWN_S,
            "maxReplicaCount": max(sp.spec.replicas.max, sp.plan.replicas),
            "minReplicaCount": sp.plan.replicas,
            "pollingInterval": POLLING_INTERVAL_S,
            "scaleTargetRef": {**target, "name": names_for(sp).workload},
            "triggers": [
                {
                    "metadata": {
                        "query": queue_query(sp),
                        "serverAddress": sp.spec.kubernetes.prometheus_url,
                        "threshold": str(sp.spec.replicas.queue_target),
                    },
                    "type": "prometheus",
                }
            ],
        },
    }


def service_monitor(sp: ServicePlan) -> dict[str, Any]:
    """Prometheus Operator (monitoring.coreos.com/v1) scrape of vLLM's /metrics
    through the Service's http port."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": metadata(sp, names_for(sp).service),
        "spec": {
            "endpoints": [{"interval": "15s", "path": "/metrics", "port": "http"}],
            "selector": {"matchLabels": selector_labels(sp)},
        },
    }
