"""Every vLLM metric llmpod renders into a query or reads from /metrics, and where.

The upgrade gate checks each against a release's metric list; the dashboard
and the KEDA trigger pick their names through llmpod.releases.for_release.metric_name.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmpod.k8s.dashboard import DASHBOARD_METRICS
from llmpod.releases import metric_names as names
from llmpod.releases.metric_names import Metric
from llmpod.spec.service import ServingSpec

CACHE_INFO = Metric(
    "cache_config_info",
    (names.CACHE_CONFIG_INFO,),
    "gauge",
    True,
    "the KV cache's size (labels kv_cache_size_tokens / num_gpu_blocks)",
)


@dataclass(frozen=True)
class MetricUse:
    where: str
    metric: Metric
    #: Whether the consumer stops working without it (else: it loses one figure).
    required: bool
    #: Only rendered for a Kubernetes service that asks for it: "autoscale"
    #: (replicas.autoscale: the KEDA trigger) or "service_monitor" (the dashboard).
    only_with: str = ""

    def applies_to(self, spec: ServingSpec) -> bool:
        if self.only_with == "autoscale":
            return spec.backend == "kubernetes" and spec.replicas.autoscale
        if self.only_with == "service_monitor":
            return spec.backend == "kubernetes" and spec.kubernetes.service_monitor
        return True


#: Read by diagnose but invisible to the facts extractor: vLLM declares these families
#: in a tuple list it loops over (vllm/v1/spec_decode/metrics.py, 0.32.0), which
#: releases/metric_extract.py does not follow yet, so the facts cannot say whether a
#: release exports them. Optional (diagnose shows an acceptance rate when present).
UNLISTED_IN_FACTS = (names.SPEC_DRAFT_TOKENS, names.SPEC_ACCEPTED_TOKENS)

USES: tuple[MetricUse, ...] = (
    MetricUse("KEDA ScaledObject query (k8s/scaling.py)", names.WAITING, True, "autoscale"),
    *(MetricUse("entrypoint drain: in-flight requests (image/vllm_http.py)", m, True)
      for m in (names.RUNNING, names.WAITING)),
    MetricUse("verify + entrypoint plan check (image/plan_check.py)", CACHE_INFO, True),
    *(MetricUse("llmpod diagnose", m, m.required) for m in names.ALL_METRICS
      if m not in UNLISTED_IN_FACTS),
    *(MetricUse("Grafana dashboard ConfigMap", m, False, "service_monitor")
      for m in DASHBOARD_METRICS),
)  # fmt: skip
