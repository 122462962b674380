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


# --- item 9: a ReadWriteMany claim with no storage class -----------------------


def test_rwx_claim_without_a_storage_class_is_refused_outside_dev() -> None:
    from llmpod.errors import LlmpodError

    # Before: rendered with no storageClassName; the default block class left the
    # claim Pending and `pulumi up` waited out its timeout.
    sp = plan("tp1", weights={"storage_class": None})
    with pytest.raises(LlmpodError) as err:
        build_manifests(sp)
    assert err.value.code == "rwx_storage_class_missing"
    text = err.value.render()
    assert "service 'svc-tp1' (staging): weights.storage_class is not set" in text
    assert "ReadWriteMany" in text and "stay Pending" in text
    assert "set weights.storage_class" in text and "efs-sc" in text


def test_dev_keeps_the_cluster_default_class() -> None:
    from k8s_specs import spec

    from llmpod.spec.planning import plan_service

    sp = plan_service(spec("tp1", weights={"storage_class": None}), "dev")
    claims = [o for o in build_manifests(sp) if o["kind"] == "PersistentVolumeClaim"]
    assert len(claims) == 2
    assert all("storageClassName" not in c["spec"] for c in claims)
    assert all(c["spec"]["accessModes"] == ["ReadWriteMany"] for c in claims)


def test_render_refuses_a_staging_stack_without_a_storage_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmpod.cli.main import main

    text = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    text = text.replace("llmpod:environment: dev", "llmpod:environment: staging")
    assert "      weights:\n        storage_class: standard-rwx\n" in text
    text = text.replace("      weights:\n        storage_class: standard-rwx\n", "")
    (tmp_path / "Pulumi.bad.yaml").write_text(text)
    out = tmp_path / "rendered"
    rc = main(["render", "bad", "--stacks-dir", str(tmp_path), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("error: service ") and "Traceback" not in err
    assert "weights.storage_class is not set" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "stacks", [ROOT / "stacks", SCAFFOLD_STACKS], ids=["shipped", "init scaffold"]
)
def test_shipped_and_scaffold_stacks_name_a_class_outside_dev(stacks: Path) -> None:
    for path in sorted(stacks.glob("Pulumi.*.yaml")):
        config = YAML(typ="safe").load(path.read_text())["config"]
        if config["llmpod:environment"] == "dev":
            continue
        for service in config["llmpod:services"]:
            if service.get("backend", "kubernetes") == "kubernetes":
                assert service["weights"]["storage_class"], (path.name, service["name"])
