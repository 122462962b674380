"""A Grafana dashboard per service, as a ConfigMap the Grafana sidecar loads.

Rendered beside the ServiceMonitor (kubernetes.service_monitor: without the
scrape there is nothing to show). The sidecar of the Grafana Helm chart and of
kube-prometheus-stack imports every ConfigMap labelled ``grafana_dashboard:
"1"`` (its default ``sidecar.dashboards.label``). Each panel names its metric
through llmpod.releases.for_release.metric_name, so a service on vLLM 0.10 charts
``vllm:gpu_cache_usage_perc``'s successor only where that release exports it
and one on 0.34 charts ``vllm:kv_cache_usage_perc``: the dashboard follows the
service's release, no hand edit. Series suffixes follow prometheus_client's
exposition: a counter family ``x`` is scraped as ``x_total``, a histogram's
buckets as ``x_bucket``.
"""

from __future__ import annotations

import json
from typing import Any

from llmpod.escaping import promql_string
from llmpod.k8s.names import metadata, names_for
from llmpod.planning.service import ServicePlan
from llmpod.releases import metric_names as names
from llmpod.releases.for_release import metric_name
from llmpod.releases.metric_names import Metric

SIDECAR_LABEL = "grafana_dashboard"
#: Grafana's dashboard JSON model revision the panels are written for (Grafana 10+).
SCHEMA_VERSION = 39
RATE_WINDOW = "5m"
#: The metrics the panels chart, in panel order (the upgrade gate checks each).
DASHBOARD_METRICS: tuple[Metric, ...] = (
    names.RUNNING,
    names.WAITING,
    names.KV_USAGE,
    names.GENERATION_TOKENS,
    names.PROMPT_TOKENS,
    names.TTFT,
    names.ITL,
    names.QUEUE_TIME,
    names.PREEMPTIONS,
)


def _series(metric: Metric, version: str, suffix: str = "") -> str:
    name = metric_name(metric.names, version)
    if metric.kind == "counter":
        return f"{name}_total"
    if metric.kind == "histogram":
        return f"{name}_{suffix or 'bucket'}"
    return name


def _panels(sp: ServicePlan) -> list[dict[str, Any]]:
    version = sp.spec.image.vllm_version
    sel = (
        f"{{namespace={promql_string(sp.spec.kubernetes.namespace)},"
        f"model_name={promql_string(sp.model.served_name)}}}"
    )

    def gauge(metric: Metric, agg: str = "sum") -> str:
        return f"{agg}({_series(metric, version)}{sel})"

    def rate(metric: Metric) -> str:
        return f"sum(rate({_series(metric, version)}{sel}[{RATE_WINDOW}]))"

    def quantile(metric: Metric, q: float) -> str:
        bucket = _series(metric, version, "bucket")
        return f"histogram_quantile({q}, sum by (le) (rate({bucket}{sel}[{RATE_WINDOW}])))"

    specs: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("Requests", "short", [
            ("running", gauge(names.RUNNING)), ("waiting", gauge(names.WAITING)),
        ]),
        ("KV-cache usage (mean over replicas)", "percentunit", [
            ("used", gauge(names.KV_USAGE, "avg")),
        ]),
        ("Tokens per second", "short", [
            ("generated", rate(names.GENERATION_TOKENS)), ("prompt", rate(names.PROMPT_TOKENS)),
        ]),
        ("Time to first token", "s", [
            ("p50", quantile(names.TTFT, 0.5)), ("p99", quantile(names.TTFT, 0.99)),
        ]),
        ("Inter-token latency", "s", [
            ("p50", quantile(names.ITL, 0.5)), ("p99", quantile(names.ITL, 0.99)),
        ]),
        ("Queue time", "s", [
            ("p50", quantile(names.QUEUE_TIME, 0.5)), ("p99", quantile(names.QUEUE_TIME, 0.99)),
        ]),
        ("Preemptions per second", "short", [("preempted", rate(names.PREEMPTIONS))]),
    ]  # fmt: skip
    panels = []
    for i, (title, unit, queries) in enumerate(specs):
        panels.append(
            {
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
                "id": i + 1,
                "targets": [
                    {
                        "datasource": {"type": "prometheus", "uid": "${datasource}"},
                        "expr": expr,
                        "legendFormat": legend,
                        "refId": chr(ord("A") + j),
                    }
                    for j, (legend, expr) in enumerate(queries)
                ],
                "title": title,
                "type": "timeseries",
            }
        )
    return panels


def dashboard(sp: ServicePlan) -> dict[str, Any]:
    """The Grafana dashboard JSON model for one service."""
    return {
        "editable": True,
        "panels": _panels(sp),
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["llmpod", "vllm", f"vllm-{sp.spec.image.vllm_version}"],
        "templating": {
            "list": [
                {
                    "label": "Prometheus",
                    "name": "datasource",
                    "query": "prometheus",
                    "type": "datasource",
                }
            ]
        },
        "time": {"from": "now-1h", "to": "now"},
        "title": f"vLLM {sp.spec.name} ({sp.environment})",
        # Stable across renders and unique per service and environment.
        "uid": f"llmpod-{sp.environment}-{sp.spec.name}"[:40],
    }


def dashboard_config_map(sp: ServicePlan) -> dict[str, Any]:
    meta = metadata(sp, f"{names_for(sp).workload}-dashboard")
    meta["labels"] = dict(sorted({**meta["labels"], SIDECAR_LABEL: "1"}.items()))
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta,
        "data": {
            f"{sp.spec.name}.json": json.dumps(dashboard(sp), indent=2, sort_keys=True) + "\n"
        },
    }
