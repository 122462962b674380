"""Objects per plan shape: counts, kinds and the fields that carry the plan."""

from __future__ import annotations

import json

import pytest
from k8s_specs import by_kind, container, one, plan

from llmpod.k8s.manifests import build_manifests

SINGLE = [
    "ConfigMap",
    "ConfigMap",
    "Deployment",
    "Job",
    "NetworkPolicy",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "PersistentVolumeClaim",
    "PodDisruptionBudget",
    "Service",
    "ServiceAccount",
]


@pytest.mark.parametrize("shape", ["tp1", "tp8", "quantized"])
def test_single_node_plans_get_a_deployment_and_no_lws(shape: str) -> None:
    objects = build_manifests(plan(shape))
    assert sorted(o["kind"] for o in objects) == SINGLE


def test_multi_node_plan_gets_a_leaderworkerset_sized_to_the_nodes() -> None:
    sp = plan("multinode")
    objects = build_manifests(sp)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == sorted([k for k in SINGLE if k != "Deployment"] + ["LeaderWorkerSet"])
    lws = one(objects, "LeaderWorkerSet")
    e = sp.evaluation
    # 405B bf16 ≈ 760 GiB: more than one node of 8 × 80 GB, so 2 pods of 8 GPUs.
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2
    assert lws["spec"]["replicas"] == sp.plan.replicas
    for role in ("leaderTemplate", "workerTemplate"):
        pod = lws["spec"]["leaderWorkerTemplate"][role]["spec"]
        res = pod["containers"][0]["resources"]
        assert res["limits"]["nvidia.com/gpu"] == str(e.tp * e.pp // 2) == "8"


@pytest.mark.parametrize(("shape", "gpus"), [("tp1", "1"), ("tp8", "8"), ("quantized", "1")])
def test_gpu_resource_equals_tp_times_pp(shape: str, gpus: str) -> None:
    sp = plan(shape)
    e = sp.evaluation
    assert str(e.tp * e.pp) == gpus
    pod = one(build_manifests(sp), "Deployment")["spec"]["template"]["spec"]
    res = container(pod, "vllm")["resources"]
    assert res["requests"]["nvidia.com/gpu"] == res["limits"]["nvidia.com/gpu"] == gpus


@pytest.mark.parametrize("shape", ["tp1", "tp8", "quantized", "multinode"])
def test_plan_file_carries_the_planners_vllm_args_verbatim(shape: str) -> None:
    sp = plan(shape)
    cm = next(o for o in build_manifests(sp) if o["metadata"]["name"].endswith("-plan"))
    payload = json.loads(cm["data"]["plan.json"])
    assert payload["vllm_args"] == list(sp.plan.vllm_args)
    # The entrypoint adds --host/--port itself (infra/llmpod/image/runtime/plan_file.py).
    assert "--port" not in payload["vllm_args"]


def test_quantized_checkpoint_is_served_from_its_own_folder() -> None:
    sp = plan("quantized")
    args = list(sp.plan.vllm_args)
    assert args[0] == "/models/Qwen/Qwen2.5-7B-Instruct-AWQ"  # vllm serve MODEL ...
    job = one(build_manifests(sp), "Job")
    script = next(o for o in build_manifests(sp) if o["metadata"]["name"].endswith("-scripts"))
    assert '"Qwen/Qwen2.5-7B-Instruct-AWQ"' in script["data"]["weights-loader.py"]
    assert job["metadata"]["name"].startswith("svc-quantized-weights-")


def test_optional_objects_follow_the_spec() -> None:
    sp = plan(
        "tp1",
        replicas={"autoscale": True, "min": 1, "max": 3},
        kubernetes={"service_monitor": True},
    )
    objects = build_manifests(sp)
    scaled = one(objects, "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "svc-tp1",
    }
    assert scaled["spec"]["maxReplicaCount"] == 3
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "prometheus"
    assert "vllm:num_requests_waiting" in trigger["metadata"]["query"]
    assert trigger["metadata"]["threshold"] == "8"  # spec default queue_target
    # The autoscaler owns the replica count: `pulumi up` must not reset it.
    assert "replicas" not in one(objects, "Deployment")["spec"]
    monitor = one(objects, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert not by_kind(build_manifests(plan("tp1")), "ScaledObject")
    assert not by_kind(build_manifests(plan("tp1")), "ServiceMonitor")


def test_autoscaler_queries_the_configured_prometheus() -> None:
    default = one(
        build_manifests(plan("tp1", replicas={"autoscale": True, "max": 3})), "ScaledObject"
    )
    assert (
        default["spec"]["triggers"][0]["metadata"]["serverAddress"]
        == "http://prometheus-operated.monitoring.svc:9090"
    )
    custom = one(
        build_manifests(
            plan(
                "tp1",
                replicas={"autoscale": True, "max": 3},
                kubernetes={
                    "prometheus_url": "http://vmselect.metrics.svc:8481/select/0/prometheus"
                },
            )
        ),
        "ScaledObject",
    )
    assert (
        custom["spec"]["triggers"][0]["metadata"]["serverAddress"]
        == "http://vmselect.metrics.svc:8481/select/0/prometheus"
    )


def test_multinode_autoscaling_targets_the_leaderworkerset() -> None:
    sp = plan("multinode", replicas={"autoscale": True, "min": 1, "max": 2})
    scaled = one(build_manifests(sp), "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["kind"] == "LeaderWorkerSet"


def test_labels_env_and_args_are_sorted_and_names_are_deterministic() -> None:
    first = build_manifests(plan("tp8"))
    second = build_manifests(plan("tp8", labels={"team": "ml", "cost-center": "42"}))
    assert [o["metadata"]["name"] for o in first] == [o["metadata"]["name"] for o in second]
    for obj in second:
        labels = list(obj["metadata"]["labels"])
        assert labels == sorted(labels)
        assert obj["metadata"]["labels"]["team"] == "ml"
    pod = one(second, "Deployment")["spec"]["template"]["spec"]
    env = [v["name"] for v in container(pod, "vllm")["env"]]
    assert env == sorted(env)
    assert json.dumps(first, sort_keys=True) == json.dumps(
        build_manifests(plan("tp8")), sort_keys=True
    )


def test_user_labels_cannot_break_selectors() -> None:
    sp = plan("tp1", labels={"app.kubernetes.io/instance": "other"})
    dep = one(build_manifests(sp), "Deployment")
    assert dep["metadata"]["labels"]["app.kubernetes.io/instance"] == "svc-tp1"
