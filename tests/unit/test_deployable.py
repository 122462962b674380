"""Manifests that work as shipped: metrics reachable, replicas spread, memory that
holds vLLM and /dev/shm, the single-replica waiver on the workload."""

from __future__ import annotations

from typing import Any

import pytest
from k8s_specs import container, one, plan

from llmpod.k8s.manifests import build_manifests
from llmpod.policy.replicas import WAIVER, check_production_replicas
from llmpod.policy.scaling import Resource

LWS_KIND = "leaderworkerset.x-k8s.io/v1"


def _objects(shape: str, **overrides: Any) -> list[dict[str, Any]]:
    return build_manifests(plan(shape, **overrides))


def _pod_spec(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod: dict[str, Any] = one(objects, "Deployment")["spec"]["template"]["spec"]
    return pod


def _serving_policy(objects: list[dict[str, Any]]) -> dict[str, Any]:
    service = one(objects, "Service")["metadata"]["name"]
    return next(
        o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == service
    )


def _metrics_rules(objects: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    return [
        rule
        for rule in _serving_policy(objects)["spec"]["ingress"]
        if any(
            f.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            == namespace
            for f in rule["from"]
        )
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"kubernetes": {"service_monitor": True}},
        {"replicas": {"autoscale": True, "min": 1, "max": 3}},
    ],
)
def test_prometheus_namespace_reaches_the_metrics_port(overrides: dict[str, Any]) -> None:
    # The finding: a ServiceMonitor and a ScaledObject, but only `ingress` admitted on 8000.
    objects = _objects("tp1", **overrides)
    [rule] = _metrics_rules(objects, "monitoring")
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]


def test_prometheus_namespace_is_configurable() -> None:
    objects = _objects(
        "tp1", kubernetes={"service_monitor": True, "prometheus_namespace": "observability"}
    )
    assert len(_metrics_rules(objects, "observability")) == 1
    assert _metrics_rules(objects, "monitoring") == []


def test_no_scrape_rule_without_a_scraper() -> None:
    assert _metrics_rules(_objects("tp1"), "monitoring") == []


def _spread(pod_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["topologyKey"]: c for c in pod_spec.get("topologySpreadConstraints", [])}


def test_two_replicas_spread_over_nodes_and_zones() -> None:
    sp = plan("tp1", targets={"concurrency": 64})
    assert sp.plan.replicas >= 2
    pod = _pod_spec(build_manifests(sp))
    spread = _spread(pod)
    labels = one(build_manifests(sp), "Deployment")["spec"]["selector"]["matchLabels"]
    host = spread["kubernetes.io/hostname"]
    assert host["whenUnsatisfiable"] == "DoNotSchedule" and host["maxSkew"] == 1
    assert host["labelSelector"] == {"matchLabels": labels}
    assert host["matchLabelKeys"] == ["pod-template-hash"]
    assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
    assert list(host) == sorted(host)


def test_an_autoscaled_workload_is_spread_even_when_it_starts_with_one() -> None:
    pod = _pod_spec(_objects("tp1", replicas={"autoscale": True, "min": 1, "max": 4}))
    assert set(_spread(pod)) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}


def test_one_replica_needs_no_spread() -> None:
    assert "topologySpreadConstraints" not in _pod_spec(_objects("tp1"))


def test_multi_replica_leader_worker_sets_spread_each_role() -> None:
    sp = plan("multinode", targets={"concurrency": 64}, replicas={"min": 2})
    assert sp.plan.replicas >= 2
    lws = one(build_manifests(sp), "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"]
    for role in ("leaderTemplate", "workerTemplate"):
        template = lws[role]
        spread = _spread(template["spec"])
        host = spread["kubernetes.io/hostname"]
        assert host["labelSelector"]["matchLabels"] == template["metadata"]["labels"]
        assert "matchLabelKeys" not in host  # LWS pods carry no pod-template-hash


def _limit(pod_spec: dict[str, Any]) -> int:
    return int(container(pod_spec, "vllm")["resources"]["limits"]["memory"].removesuffix("Gi"))


def _shm(pod_spec: dict[str, Any]) -> int:
    vol = [v for v in pod_spec["volumes"] if v["name"] == "dshm"]
    return int(vol[0]["emptyDir"]["sizeLimit"].removesuffix("Gi")) if vol else 0


@pytest.mark.parametrize("shape", ["tp1", "tp8"])
def test_memory_leaves_at_least_16_gib_for_vllm_beside_dev_shm(shape: str) -> None:
    pod = _pod_spec(_objects(shape))
    assert _limit(pod) - _shm(pod) >= 16


def test_memory_override_adds_dev_shm_on_top() -> None:
    pod = _pod_spec(_objects("tp8", kubernetes={"memory_gib": 200}))
    assert _shm(pod) > 0
    assert _limit(pod) == 200 + _shm(pod)
    requests = container(pod, "vllm")["resources"]["requests"]["memory"]
    assert requests == f"{200 + _shm(pod)}Gi"


def test_memory_override_is_validated() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="greater than or equal to 4"):
        plan("tp1", kubernetes={"memory_gib": 2})


def test_single_replica_reason_becomes_the_waiver_the_policy_reads() -> None:
    sp = plan("multinode", replicas={"single_replica_reason": "batch only; retries are fine"})
    lws = one(build_manifests(sp), "LeaderWorkerSet")
    assert lws["metadata"]["annotations"][WAIVER] == "batch only; retries are fine"
    resource = Resource(f"kubernetes:{LWS_KIND}:LeaderWorkerSet", lws, "urn:x")
    assert check_production_replicas([resource], "production") == []
    bare = one(build_manifests(plan("multinode")), "LeaderWorkerSet")
    assert WAIVER not in bare["metadata"]["annotations"]
    assert check_production_replicas(
        [Resource(f"kubernetes:{LWS_KIND}:LeaderWorkerSet", bare, "urn:x")], "production"
    )
