"""The serving pod: vLLM container, probes, volumes, resources, placement.

Used as the Deployment's template and as the LeaderWorkerSet leader's; workers
reuse the volumes, resources and placement with a Ray-only container.
"""

from __future__ import annotations

from typing import Any

from llmpod.backends.runtime import (
    STARTUP_PERIOD_S,
    plan_file_payload,
    plan_file_text,
    startup_budget_s,
    vllm_env,
)
from llmpod.k8s import contract as c
from llmpod.k8s.compile_cache import compile_cache_env, compile_cache_mount, compile_cache_volume
from llmpod.k8s.names import (
    Names,
    checkov_skips,
    image_skips,
    metadata,
    names_for,
    pull_policy,
    short_hash,
)
from llmpod.k8s.pod_security import container_security, pod_security
from llmpod.k8s.scheduling import scheduling
from llmpod.k8s.sizing import PodSize, await_timeout_s, pod_size
from llmpod.k8s.weights import (
    scripts_mount,
    scripts_volume,
    tmp_volume,
    wait_init_container,
    weights_mount,
    weights_volume,
)
from llmpod.planning.service import ServicePlan
from llmpod.policy.replicas import WAIVER

LIVENESS_PERIOD_S = 10
#: A wedged engine is restarted after a minute; a slow /health under load is not.
LIVENESS_FAILURES = 6
READINESS_PERIOD_S = 5
PROBE_TIMEOUT_S = 5


def plan_json(sp: ServicePlan) -> str:
    return plan_file_text(plan_file_payload(sp))


def probes(sp: ServicePlan) -> dict[str, Any]:
    """Three probes, three questions.

    startupProbe (vLLM /health): has the engine loaded? Its failureThreshold ×
    period is the plan's startup budget (weights / volume bandwidth + engine
    init), so a 70B pod reading 140 GB is not killed by a fixed 60×10 s.
    Liveness does not run until it succeeds: loading pods are never killed.

    readinessProbe (entrypoint /ready on the status port): 200 only after
    warmup and not while draining, so the Service sends no traffic to a pod
    that would answer its first requests in seconds instead of milliseconds.

    livenessProbe (vLLM /health): the engine is wedged or dead.
    """
    budget = startup_budget_s(sp)

    def health() -> dict[str, Any]:  # fresh dicts: shared ones become YAML anchors
        return {"httpGet": {"path": "/health", "port": "http"}}

    return {
        "livenessProbe": {
            **health(),
            "failureThreshold": LIVENESS_FAILURES,
            "periodSeconds": LIVENESS_PERIOD_S,
            "timeoutSeconds": PROBE_TIMEOUT_S,
        },
        "readinessProbe": {
            "failureThreshold": 3,
            "httpGet": {"path": "/ready", "port": "status"},
            "periodSeconds": READINESS_PERIOD_S,
            "timeoutSeconds": PROBE_TIMEOUT_S,
        },
        "startupProbe": {
            **health(),
            "failureThreshold": budget // STARTUP_PERIOD_S,
            "periodSeconds": STARTUP_PERIOD_S,
            "timeoutSeconds": PROBE_TIMEOUT_S,
        },
    }


def resources(sp: ServicePlan, size: PodSize) -> dict[str, Any]:
    e = sp.evaluation
    requests: dict[str, str] = {"cpu": str(size.cpu_request), "memory": f"{size.memory_gib}Gi"}
    limits: dict[str, str] = {"cpu": str(size.cpu_limit), "memory": f"{size.memory_gib}Gi"}
    if e.gpu.vendor != "cpu":
        # Extended resources must have request == limit; GPUs are never shared.
        requests[e.gpu.k8s_resource] = limits[e.gpu.k8s_resource] = str(size.gpus)
    return {"limits": dict(sorted(limits.items())), "requests": dict(sorted(requests.items()))}


def serving_env(sp: ServicePlan) -> list[dict[str, Any]]:
    env = {
        "HF_HUB_OFFLINE": "1",  # weights are on the volume; never reach the Hub from a pod
        "HOME": c.HOME,
        "LLMPOD_DRAIN_PROPAGATION_S": str(c.DRAIN_PROPAGATION_S),
        "LLMPOD_DRAIN_TIMEOUT_S": str(c.DRAIN_TIMEOUT_S),
        "LLMPOD_PLAN_FILE": c.PLAN_FILE,
        "LLMPOD_STARTUP_TIMEOUT_S": str(startup_budget_s(sp)),
        "LLMPOD_STATUS_PORT": str(c.STATUS_PORT),
        "LLMPOD_VLLM_PORT": str(c.VLLM_PORT),
        "LLMPOD_VLLM_STOP_TIMEOUT_S": str(c.VLLM_STOP_TIMEOUT_S),
        **compile_cache_env(sp),
        **vllm_env(sp),
    }
    return [{"name": k, "value": v} for k, v in sorted(env.items())]


def writable_mounts(size: PodSize) -> list[dict[str, Any]]:
    mounts = [{"mountPath": c.HOME, "name": "home"}, {"mountPath": "/tmp", "name": "tmp"}]
    if size.shm_gib:
        mounts.append({"mountPath": "/dev/shm", "name": "dshm"})
    return mounts


def volumes(names: Names, size: PodSize, *, with_plan: bool) -> list[dict[str, Any]]:
    vols = [
        tmp_volume("home", 16),
        scripts_volume(names),
        tmp_volume("tmp", 16),
        weights_volume(names, read_only=True),
    ]
    if size.shm_gib:
        vols.append(
            {"emptyDir": {"medium": "Memory", "sizeLimit": f"{size.shm_gib}Gi"}, "name": "dshm"}
        )
    if with_plan:  # the pod that runs the entrypoint (and vLLM's API server)
        vols.append(
            {"configMap": {"defaultMode": 0o444, "name": names.plan_config}, "name": "plan"}
        )
        vols.append(compile_cache_volume(names))
    return sorted(vols, key=lambda v: v["name"])


def serving_container(sp: ServicePlan, command: list[str] | None = None) -> dict[str, Any]:
    size = pod_size(sp)
    mounts = [
        *writable_mounts(size),
        {"mountPath": c.PLAN_DIR, "name": "plan", "readOnly": True},
        scripts_mount(),
        weights_mount(read_only=True),
        compile_cache_mount(),
    ]
    container: dict[str, Any] = {
        "env": serving_env(sp),
        "image": sp.spec.image.reference,
        "imagePullPolicy": pull_policy(sp),
        "name": "vllm",
        "ports": [
            {"containerPort": c.VLLM_PORT, "name": "http", "protocol": "TCP"},
            {"containerPort": c.STATUS_PORT, "name": "status", "protocol": "TCP"},
        ],
        "resources": resources(sp, size),
        "securityContext": container_security(),
        "volumeMounts": sorted(mounts, key=lambda m: m["mountPath"]),
        **probes(sp),
    }
    if command:
        container["command"] = command
    return container


def pod_annotations(sp: ServicePlan) -> dict[str, str]:
    # The plan ConfigMap's content is in the pod template, so a new plan rolls
    # the pods (a ConfigMap change alone would not restart them).
    return {"llmpod.io/plan-sha256": short_hash(plan_file_payload(sp))}


def pod_spec(
    sp: ServicePlan,
    containers: list[dict[str, Any]],
    *,
    with_plan: bool,
    labels: dict[str, str],
    revision_key: str | None = None,
) -> dict[str, Any]:
    names = names_for(sp)
    size = pod_size(sp)
    return {
        "automountServiceAccountToken": False,
        "containers": containers,
        "enableServiceLinks": False,  # dozens of *_SERVICE_HOST variables vLLM does not read
        "initContainers": [wait_init_container(sp)],
        "securityContext": pod_security(),
        "serviceAccountName": names.service_account,
        "terminationGracePeriodSeconds": c.GRACE_PERIOD_S,
        "volumes": volumes(names, size, with_plan=with_plan),
        **scheduling(sp, labels, revision_key=revision_key),
    }


def waiver_annotation(sp: ServicePlan) -> dict[str, str]:
    """replicas.single_replica_reason as the annotation the production-replicas
    policy reads (infra/llmpod/policy/replicas.py): the reviewed reason travels with
    the workload instead of staying in the stack file."""
    reason = (sp.spec.replicas.single_replica_reason or "").strip()
    return {WAIVER: reason} if reason else {}


def workload(sp: ServicePlan, api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Wrap a Deployment or LeaderWorkerSet spec: replica count, metadata, annotations."""
    if not sp.spec.replicas.autoscale:
        # With autoscaling the ScaledObject owns the count; setting it here would
        # make every `pulumi up` reset what the autoscaler chose.
        spec = {**spec, "replicas": sp.plan.replicas}
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": metadata(
            sp,
            names_for(sp).workload,
            annotations={
                "pulumi.com/timeoutSeconds": str(await_timeout_s(sp)),
                **waiver_annotation(sp),
                **checkov_skips(image_skips(sp)),
            },
        ),
        "spec": spec,
    }
