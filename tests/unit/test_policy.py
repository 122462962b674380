"""Policy pack rules on hand-built Kubernetes objects (API shapes, as Pulumi passes them).

One passing and one failing case per policy; the builders below follow the
apps/v1 Deployment and leaderworkerset.x-k8s.io/v1 LeaderWorkerSet schemas.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from llmpod.policy.cost_cap import check_cost_cap
from llmpod.policy.gpu_limits import check_gpu_limits
from llmpod.policy.images import check_images_pinned, parse_image
from llmpod.policy.privileged import check_not_privileged
from llmpod.policy.probes import check_probes
from llmpod.policy.replicas import check_production_replicas
from llmpod.policy.scaling import Resource
from llmpod.policy.weights_readonly import check_weights_read_only

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
LWS = "kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
DIGEST = "sha256:" + "a" * 64
PROBE = {"httpGet": {"path": "/health", "port": 8000}}


def vllm_container(gpus: int = 2) -> dict[str, Any]:
    return {
        "name": "vllm",
        "image": f"ghcr.io/llmpod/vllm:v0.32.0@{DIGEST}",
        "ports": [{"containerPort": 8000, "name": "http"}],
        "resources": {
            "limits": {"nvidia.com/gpu": str(gpus)},
            "requests": {"nvidia.com/gpu": str(gpus)},
        },
        "startupProbe": PROBE,
        "readinessProbe": PROBE,
        "livenessProbe": PROBE,
        "volumeMounts": [
            {"name": "weights", "mountPath": "/models", "readOnly": True},
            {"name": "dshm", "mountPath": "/dev/shm"},
        ],
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }


def pod_spec(gpus: int = 2) -> dict[str, Any]:
    return {
        "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "containers": [vllm_container(gpus)],
        "volumes": [
            {"name": "weights", "persistentVolumeClaim": {"claimName": "llama-weights"}},
            {"name": "dshm", "emptyDir": {"medium": "Memory"}},
        ],
    }


def deployment(
    replicas: int = 2, gpus: int = 2, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llama-70b", "namespace": "llm", "annotations": annotations or {}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "llama-70b"}},
            "template": {"metadata": {"labels": {"app": "llama-70b"}}, "spec": pod_spec(gpus)},
        },
    }


def lws(groups: int = 1, size: int = 2) -> dict[str, Any]:
    worker = pod_spec(8)
    for c in worker["containers"]:
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            del c[probe]  # Ray workers serve no HTTP
    return {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "deepseek-v3"},
        "spec": {
            "replicas": groups,
            "leaderWorkerTemplate": {
                "size": size,
                "leaderTemplate": {"spec": pod_spec(8)},
                "workerTemplate": {"spec": worker},
            },
        },
    }


# --- GPU limits ---------------------------------------------------------------------------


def test_gpu_limits_pass() -> None:
    assert check_gpu_limits(DEPLOYMENT, deployment()) == []
    assert check_gpu_limits(LWS, lws()) == []


def test_gpu_limits_missing_on_gpu_pod() -> None:
    d = deployment()
    del d["spec"]["template"]["spec"]["containers"][0]["resources"]
    [msg] = check_gpu_limits(DEPLOYMENT, d)
    assert "Deployment llama-70b" in msg
    assert "pinned to nvidia.com/gpu.product NVIDIA-H100-80GB-HBM3" in msg
    assert "resources.limits['nvidia.com/gpu']" in msg


def test_gpu_requests_must_equal_limits() -> None:
    d = deployment()
    d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["nvidia.com/gpu"] = "1"
    assert any(
        "requests nvidia.com/gpu=1 but limits it to 2" in m for m in check_gpu_limits(DEPLOYMENT, d)
    )


def test_cpu_pod_needs_no_gpu_limit() -> None:
    job = {"spec": {"template": {"spec": {"containers": [{"name": "loader", "image": "x:1"}]}}}}
    assert check_gpu_limits("kubernetes:batch/v1:Job", job) == []


# --- probes -------------------------------------------------------------------------------


def test_probes_pass_and_lws_workers_are_exempt() -> None:
    assert check_probes(DEPLOYMENT, deployment()) == []
    assert check_probes(LWS, lws()) == []


def test_probes_missing() -> None:
    d = deployment()
    del d["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    [msg] = check_probes(DEPLOYMENT, d)
    assert "serving container 'vllm' has no startupProbe" in msg


# --- read-only weights --------------------------------------------------------------------


def test_weights_read_only_pass() -> None:
    assert check_weights_read_only(DEPLOYMENT, deployment()) == []
    assert check_weights_read_only(LWS, lws()) == []


def test_writable_weights_mount() -> None:
    d = deployment()
    d["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["readOnly"] = False
    [msg] = check_weights_read_only(DEPLOYMENT, d)
    assert "mounts weights volume 'weights' at /models writable" in msg


def test_read_only_pvc_source_also_counts() -> None:
    d = deployment()
    spec = d["spec"]["template"]["spec"]
    del spec["containers"][0]["volumeMounts"][0]["readOnly"]
    spec["volumes"][0]["persistentVolumeClaim"]["readOnly"] = True
    assert check_weights_read_only(DEPLOYMENT, d) == []


# --- pinned images ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("ghcr.io/llmpod/vllm:v0.32.0", ("ghcr.io/llmpod/vllm", "v0.32.0", None)),
        ("localhost:5000/vllm", ("localhost:5000/vllm", None, None)),
        (f"vllm@{DIGEST}", ("vllm", None, DIGEST)),
    ],
)
def test_parse_image(ref: str, parsed: tuple[str, str | None, str | None]) -> None:
    assert parse_image(ref) == parsed


def test_images_pinned_pass() -> None:
    assert check_images_pinned(DEPLOYMENT, deployment(), "production") == []
    d = deployment()
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/llmpod/vllm:v0.32.0"
    assert check_images_pinned(DEPLOYMENT, d, "staging") == []


@pytest.mark.parametrize(
    ("image", "env", "fragment"),
    [
        ("ghcr.io/llmpod/vllm:latest", "staging", "is not pinned (:latest moves)"),
        ("localhost:5000/vllm", "dev", "is not pinned (no tag moves)"),
        ("ghcr.io/llmpod/vllm:v0.32.0", "production", "has no digest; production requires"),
    ],
)
def test_images_not_pinned(image: str, env: str, fragment: str) -> None:
    d = deployment()
    d["spec"]["template"]["spec"]["containers"][0]["image"] = image
    [msg] = check_images_pinned(DEPLOYMENT, d, env)
    assert fragment in msg


# --- privileged ---------------------------------------------------------------------------


def test_not_privileged_pass() -> None:
    assert check_not_privileged(DEPLOYMENT, deployment()) == []


@pytest.mark.parametrize(
    "context", [{"privileged": True}, {"capabilities": {"add": ["SYS_ADMIN"]}}]
)
def test_privileged(context: dict[str, Any]) -> None:
    d = deployment()
    d["spec"]["template"]["spec"]["containers"][0]["securityContext"] = context
    assert len(check_not_privileged(DEPLOYMENT, d)) == 1


# --- production replicas ------------------------------------------------------------------


def test_production_two_replicas_or_waiver_pass() -> None:
    assert (
        check_production_replicas([Resource(DEPLOYMENT, deployment(2), "urn:d")], "production")
        == []
    )
    waived = deployment(1, annotations={"llmpod.dev/pdb-waiver": "16 GPUs; one replica is ok"})
    assert check_production_replicas([Resource(DEPLOYMENT, waived, "urn:d")], "production") == []
    # Outside production a single replica is fine.
    assert (
        check_production_replicas([Resource(DEPLOYMENT, deployment(1), "urn:d")], "staging") == []
    )


def test_production_single_replica_fails() -> None:
    blank = deployment(1, annotations={"llmpod.dev/pdb-waiver": "  "})
    [(urn, msg)] = check_production_replicas([Resource(DEPLOYMENT, blank, "urn:d")], "production")
    assert urn == "urn:d" and "runs 1 replica(s) in production" in msg


def test_production_hpa_minimum_is_the_floor() -> None:
    hpa = {
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "llama-70b"},
            "minReplicas": 1,
            "maxReplicas": 4,
        }
    }
    resources = [Resource(DEPLOYMENT, deployment(2), "urn:d"), Resource(HPA, hpa, "urn:h")]
    [(_, msg)] = check_production_replicas(resources, "production")
    assert "(its HPA minimum)" in msg


# --- cost cap -----------------------------------------------------------------------------


def test_cost_cap_pass_and_fail() -> None:
    from llmpod.gpus.catalog import find_gpu

    h100 = find_gpu("H100").price_per_gpu_hour
    # 2 replicas × 2 GPUs + one LWS group of 2 pods × 8 GPUs = 20 H100s.
    resources = [Resource(DEPLOYMENT, deployment(2, 2), "urn:d"), Resource(LWS, lws(1, 2), "urn:l")]
    cost = 20 * h100
    assert check_cost_cap(resources, {"maxGpus": 20, "maxCostPerHour": cost + 0.01}) == []
    msgs = check_cost_cap(resources, {"maxGpus": 19, "maxCostPerHour": cost - 1})
    assert any("can run 20 GPUs" in m for m in msgs)
    assert any(f"${round(cost, 2):,.2f}/hour" in m for m in msgs)


def test_cost_cap_counts_the_autoscaler_ceiling_and_price_overrides() -> None:
    hpa = {
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "llama-70b"},
            "minReplicas": 2,
            "maxReplicas": 5,
        }
    }
    resources = [Resource(DEPLOYMENT, deployment(2, 2), "urn:d"), Resource(HPA, hpa, "urn:h")]
    [msg] = check_cost_cap(resources, {"maxCostPerHour": 19, "pricePerGpuHour": {"H100": 2.0}})
    assert "$20.00/hour" in msg  # 5 replicas × 2 GPUs × $2


def test_required_node_affinity_counts_as_gpu_pinning_and_prices_the_dearest() -> None:
    from llmpod.gpus.catalog import find_gpu

    d = deployment(1, 1)
    spec = d["spec"]["template"]["spec"]
    del spec["nodeSelector"]
    spec["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {
                                "key": "nvidia.com/gpu.product",
                                "operator": "In",
                                "values": ["NVIDIA-L4", "NVIDIA-H100-80GB-HBM3"],
                            }
                        ]
                    }
                ]
            }
        }
    }
    h100 = find_gpu("H100").price_per_gpu_hour
    assert find_gpu("L4").price_per_gpu_hour < h100
    [msg] = check_cost_cap([Resource(DEPLOYMENT, d, "urn:d")], {"maxCostPerHour": h100 - 0.01})
    assert f"${h100:,.2f}/hour" in msg
    del spec["containers"][0]["resources"]
    [msg] = check_gpu_limits(DEPLOYMENT, d)
    assert "pinned to nvidia.com/gpu.product NVIDIA-L4, NVIDIA-H100-80GB-HBM3" in msg


def test_cost_cap_refuses_unpriceable_gpus() -> None:
    d = deployment()
    del d["spec"]["template"]["spec"]["nodeSelector"]
    msgs = check_cost_cap([Resource(DEPLOYMENT, d, "urn:d")], {"maxCostPerHour": 100})
    assert any("cannot price the GPUs of urn:d" in m for m in msgs)


def test_rules_do_not_mutate_props() -> None:
    d = deployment()
    snapshot = copy.deepcopy(d)
    for rule in (check_gpu_limits, check_probes, check_weights_read_only, check_not_privileged):
        rule(DEPLOYMENT, d)
    assert d == snapshot
