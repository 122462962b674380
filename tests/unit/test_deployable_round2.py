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
from llmpod.deploy.stack import cost_per_hour
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

    from llmpod.planning.service import plan_service

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
    from llmpod.planning.service import plan_service
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
    assert cost_per_hour(sp) == pytest.approx(2 * 55.04)
    assert cost_per_hour(sp) > sp.plan.cost_per_hour


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
    assert cost_per_hour(sp) == pytest.approx(4.60)


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
    assert cost_per_hour(sp) == pytest.approx(2 * 8 * 4.0)


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
    assert cost_per_hour(sp) == pytest.approx(gpus * find_gpu("RTX-4090").price_per_gpu_hour)


def test_render_summary_says_how_a_kubernetes_service_was_priced() -> None:
    from llmpod.render.api import render_stack

    summary = next(s for s in render_stack("staging").services if s.name == "llama-70b")
    cost = next(d for d in summary.details if d.startswith("cost: "))
    assert "× p5e.48xlarge-shaped node (8 GPUs" in cost and "hard spread" in cost
    assert summary.cost_per_hour == pytest.approx(2 * 63.30)


# --- item 8: AWS replicas spread over instances; the policies read AWS -----------

AWS_STACK = """\
config:
  llmpod:environment: production
  llmpod:services:
    - name: chat-aws
      model: llama-3.1-8b
      backend: aws
      max_model_len: 8192
      gpus:
        types: [L4]
        max_per_replica: 2
      targets:
        concurrency: 16
      replicas:
        min: {min}
        max: {max}{reason}
      weights:
        source: s3://llmpod-models/meta-llama/Llama-3.1-8B-Instruct
      aws:
        region: us-east-1
        vpc_id: vpc-0a1b2c3d4e5f60718
        subnet_ids: [subnet-0a1b2c3d4e5f60711, subnet-0a1b2c3d4e5f60722]
        allowed_cidrs: [10.0.0.0/8]
"""


def _aws_render(tmp_path: Path, low: int, high: int, reason: str = "") -> Any:
    from llmpod.render.api import render_stack

    extra = f"\n        single_replica_reason: {reason}" if reason else ""
    (tmp_path / "Pulumi.production.yaml").write_text(
        AWS_STACK.format(min=low, max=high, reason=extra)
    )
    return render_stack("production", tmp_path)


def _groups(result: Any) -> list[dict[str, Any]]:
    return [o.props for o in result.objects if o.type == "aws:autoscaling/group:Group"]


def _violations(result: Any, policy: str) -> list[str]:
    from llmpod.render.policy_report import policy_config, run_policies

    config = policy_config(result.spec, "production", None)
    found = run_policies(result.objects, config, spec=result.spec, stack="production")
    return [v.message for v in found if v.policy == policy]


def test_two_aws_replicas_run_on_two_instances_over_the_subnets(tmp_path: Path) -> None:
    # Before: both TP-2 replicas packed onto one 4-GPU g6.12xlarge, ASG min = max = 1.
    result = _aws_render(tmp_path, 2, 2)
    [group] = _groups(result)
    assert (group["minSize"], group["desiredCapacity"], group["maxSize"]) == (2, 2, 2)
    assert len(group["targetGroupArns"]) == 1  # one replica slot per instance
    assert group["vpcZoneIdentifiers"] == [
        "subnet-0a1b2c3d4e5f60711",
        "subnet-0a1b2c3d4e5f60722",
    ]
    assert _violations(result, "llmpod-production-replicas") == []


def test_production_image_digest_rule_reads_the_aws_launch_template(tmp_path: Path) -> None:
    # Before: only pod templates were read, so an AWS service passed undigested.
    [message] = _violations(_aws_render(tmp_path, 2, 2), "llmpod-images-pinned")
    assert message.startswith(
        "LaunchTemplate chat-aws: docker run image 'ghcr.io/llmpod/vllm:v0.32.0' has no digest"
    )
    assert "llmpod:services[0].image.digest" in message


def test_a_single_aws_replica_in_production_needs_the_waiver(tmp_path: Path) -> None:
    [message] = _violations(_aws_render(tmp_path, 1, 1), "llmpod-production-replicas")
    assert "AWS service chat-aws runs 1 replica(s) in production" in message
    assert "replicas.single_replica_reason" in message
    waived = _aws_render(tmp_path, 1, 1, reason="internal batch scoring, retries acceptable")
    [group] = _groups(waived)
    tags = {t["key"]: t["value"] for t in group["tags"]}
    assert tags["llmpod.dev/pdb-waiver"] == "internal batch scoring, retries acceptable"
    assert _violations(waived, "llmpod-production-replicas") == []


def _asg(min_size: int, target_groups: int, **tags: str) -> Any:
    from llmpod.policy.scaling import Resource

    return Resource(
        "aws:autoscaling/group:Group",
        {
            "minSize": min_size,
            "targetGroupArns": [f"arn:tg-{i}" for i in range(target_groups)],
            "tags": [
                {"key": k, "propagateAtLaunch": True, "value": v}
                for k, v in {"managed-by": "llmpod", "service": "chat", **tags}.items()
            ],
        },
        "urn:asg",
    )


def test_replica_rule_flags_two_replicas_on_one_instance() -> None:
    from llmpod.policy.replicas import check_production_replicas

    # What the old layout registered: 1 instance, 2 slots (target groups).
    [(urn, message)] = check_production_replicas([_asg(1, 2)], "production")
    assert urn == "urn:asg"
    assert "runs its 2 replicas on 1 instance in production" in message
    assert check_production_replicas([_asg(2, 1)], "production") == []
    assert check_production_replicas([_asg(1, 2)], "staging") == []
    # Ray worker groups take no traffic and hand-made groups are not llmpod's.
    workers = _asg(1, 0)
    assert check_production_replicas([workers], "production") == []


def test_image_rule_skips_what_is_not_a_docker_run_command() -> None:
    import base64

    from llmpod.policy.images import check_images_pinned

    text = (
        "#cloud-config\n"
        "# containers get it through `docker run -v …:ro`, see below\n"
        "write_files:\n"
        "- content: |\n"
        "    ExecStart=/usr/bin/docker run --rm --name s0 --gpus '\"device=0\"' "
        "-e A=b --entrypoint bash repo/vllm:latest /x.sh\n"
    )
    props = {"userData": base64.b64encode(text.encode()).decode(), "tags": {"service": "s"}}
    [message] = check_images_pinned("aws:ec2/launchTemplate:LaunchTemplate", props, "staging")
    assert message.startswith("LaunchTemplate s: docker run image 'repo/vllm:latest'")
    assert check_images_pinned("aws:ec2/launchTemplate:LaunchTemplate", {}, "production") == []


def test_an_aws_waiver_longer_than_a_tag_is_refused(tmp_path: Path) -> None:
    from llmpod.errors import LlmpodError

    with pytest.raises(LlmpodError, match=r"replicas\.single_replica_reason is 300 characters"):
        _aws_render(tmp_path, 1, 1, reason="x" * 300)
