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


# --- item 10: Kubernetes cost follows the nodes the layout occupies ------------


def _k8s_plan(name: str, **fields: Any) -> Any:
    from llmpod.spec.planning import plan_service
    from llmpod.spec.service import ServingSpec

    data = {"name": name, "weights": {"storage_class": "efs-sc"}, **fields}
    return plan_service(ServingSpec.model_validate(data), "staging")


def test_spread_partial_node_replicas_are_priced_as_whole_nodes() -> None:
    # Two 70B replicas on H100, fewer than 8 GPUs each: the hard hostname spread puts
    # each on its own 8-GPU node. Before: priced as their GPUs (2 × TP × $6.88).
    sp = _k8s_plan(
        "llama-70b",
        model="meta-llama/Llama-3.1-70B-Instruct",
        max_model_len=8192,
        gpus={"types": ["H100"], "max_per_replica": 4, "max_nodes": 1},
        replicas={"min": 2, "max": 2},
    )
    assert sp.plan.replicas == 2 and sp.evaluation.gpus_per_replica < 8
    # p5.48xlarge, the only 8-GPU H100 node: $55.04/h (EC2 on-demand us-east-1, 2025-06).
    assert sp.cost_per_hour == pytest.approx(2 * 55.04)
    assert sp.cost_per_hour > sp.plan.cost_per_hour


def test_a_multi_gpu_pod_is_priced_as_its_multi_gpu_node() -> None:
    # Four L4 in one pod need a 4-GPU machine (g6.12xlarge $4.602/h), not four
    # single-GPU ones (4 × g6.xlarge $0.805/h = $3.22) as before.
    sp = _k8s_plan(
        "qwen-32b",
        model="Qwen/Qwen2.5-32B-Instruct",
        max_model_len=8192,
        gpus={"types": ["L4"], "max_per_replica": 4, "max_nodes": 1},
        replicas={"min": 1, "max": 1},
    )
    assert (sp.plan.replicas, sp.evaluation.gpus_per_replica) == (1, 4)
    assert sp.cost_per_hour == pytest.approx(4.60)


def test_a_price_override_prices_every_gpu_of_the_node() -> None:
    sp = _k8s_plan(
        "llama-70b",
        model="meta-llama/Llama-3.1-70B-Instruct",
        max_model_len=8192,
        gpus={
            "types": ["H100"],
            "max_per_replica": 4,
            "max_nodes": 1,
            "price_per_gpu_hour": {"H100": 4.0},
        },
        replicas={"min": 2, "max": 2},
    )
    assert sp.cost_per_hour == pytest.approx(2 * 8 * 4.0)


def test_a_gpu_without_a_catalogued_node_is_priced_per_gpu() -> None:
    from llmpod.gpus.catalog import find_gpu
    from llmpod.k8s.cost import node_cost

    sp = _k8s_plan(
        "chat",
        model="Qwen/Qwen2.5-7B-Instruct",
        max_model_len=8192,
        gpus={"types": ["RTX-4090"]},
        replicas={"min": 2, "max": 2},
    )
    cost = node_cost(sp)
    assert cost.node is None and "priced per GPU" in cost.how
    gpus = sp.plan.replicas * sp.evaluation.gpus_per_replica
    assert sp.cost_per_hour == pytest.approx(gpus * find_gpu("RTX-4090").price_per_gpu_hour)


def test_render_summary_says_how_a_kubernetes_service_was_priced() -> None:
    from llmpod.render.api import render_stack

    summary = next(s for s in render_stack("staging").services if s.name == "llama-70b")
    cost = next(d for d in summary.details if d.startswith("cost: "))
    assert "× p5e.48xlarge-shaped node (8 GPUs" in cost and "hard spread" in cost
    assert summary.cost_per_hour == pytest.approx(2 * 63.30)
