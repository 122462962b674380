"""Deployable as shipped, round 2 (issue 20, items 8-11): who the NetworkPolicy
admits, how KEDA scales in, RWX claims without a storage class, what a
Kubernetes layout costs, and how AWS spreads replicas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from k8s_specs import one, plan
from ruamel.yaml import YAML

import llmpod.scaffold
from llmpod.k8s.manifests import build_manifests
from llmpod.k8s.validate import validate_object

ROOT = Path(__file__).resolve().parents[2]
SCAFFOLD_STACKS = Path(llmpod.scaffold.__file__).parent / "files" / "stacks"


def _serving_ingress(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    service = one(objects, "Service")["metadata"]["name"]
    policy = next(
        o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == service
    )
    rules: list[dict[str, Any]] = policy["spec"]["ingress"]
    return rules


# --- item 11: admitted namespaces -------------------------------------------------


def test_default_admits_the_ingress_nginx_namespace_by_name() -> None:
    # Before: only a namespace literally named `ingress`, which no controller's
    # install creates.
    [rule] = _serving_ingress(build_manifests(plan("tp1")))
    assert rule["from"] == [
        {
            "namespaceSelector": {
                "matchExpressions": [
                    {
                        "key": "kubernetes.io/metadata.name",
                        "operator": "In",
                        "values": ["ingress-nginx"],
                    }
                ]
            }
        }
    ]
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]


def test_namespaces_can_be_admitted_by_label_as_well_as_by_name() -> None:
    sp = plan(
        "tp1",
        kubernetes={
            "allowed_namespaces": ["traefik", "envoy-gateway-system", "traefik"],
            "allowed_namespace_labels": {"team": "chat", "llmpod.dev/client": "true"},
        },
    )
    [rule] = _serving_ingress(build_manifests(sp))
    by_name, by_label = rule["from"]
    expr = by_name["namespaceSelector"]["matchExpressions"][0]
    assert expr["values"] == ["envoy-gateway-system", "traefik"]  # sorted, once each
    labels = by_label["namespaceSelector"]["matchLabels"]
    assert list(labels.items()) == [("llmpod.dev/client", "true"), ("team", "chat")]


def test_admitting_no_namespace_leaves_only_the_scraper() -> None:
    sp = plan("tp1", kubernetes={"allowed_namespaces": [], "service_monitor": True})
    [rule] = _serving_ingress(build_manifests(sp))
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_init_stacks_show_the_admitted_namespaces(stack: str) -> None:
    doc = YAML(typ="safe").load((SCAFFOLD_STACKS / f"Pulumi.{stack}.yaml").read_text())
    for service in doc["config"]["llmpod:services"]:
        assert service["kubernetes"]["allowed_namespaces"] == ["ingress-nginx"]


def test_docs_explain_the_admitted_namespaces() -> None:
    docs = (ROOT / "docs/kubernetes.md").read_text()
    assert "`kubernetes.allowed_namespace_labels`" in docs
    assert "`ingress-nginx`" in docs


# --- item 11: KEDA scale-in -------------------------------------------------------


def test_keda_scale_in_is_stabilised_while_replicas_stay_above_zero() -> None:
    # Before: only cooldownPeriod, which KEDA applies to scaling to zero; with
    # minReplicaCount >= 1 the HPA's 300 s default dropped a replica between bursts.
    scaled = one(
        build_manifests(plan("tp1", replicas={"autoscale": True, "max": 3})), "ScaledObject"
    )
    assert scaled["spec"]["minReplicaCount"] >= 1
    behavior = scaled["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    down = behavior["scaleDown"]
    assert down["stabilizationWindowSeconds"] >= 600
    assert down["policies"] == [{"periodSeconds": 300, "type": "Pods", "value": 1}]
    assert "scaleUp" not in behavior  # scale-up keeps the HPA's immediate default
    validate_object(scaled)


def test_scaled_object_schema_refuses_a_misspelt_behavior_field() -> None:
    from llmpod.k8s.validate import ManifestInvalid

    scaled = one(
        build_manifests(plan("tp1", replicas={"autoscale": True, "max": 3})), "ScaledObject"
    )
    down = scaled["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    down["stabilisationWindowSeconds"] = down.pop("stabilizationWindowSeconds")
    with pytest.raises(ManifestInvalid, match="stabilisationWindowSeconds"):
        validate_object(scaled)
