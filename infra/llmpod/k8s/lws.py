"""Multi-node plans: a LeaderWorkerSet (leaderworkerset.x-k8s.io/v1), vLLM over Ray.

Follows the LWS vLLM example (kubernetes-sigs/lws docs/examples/vllm/GPU,
API as of LWS v0.6–v0.10): each replica is a group of `size` pods, one per
node; the leader runs the Ray head and `vllm serve`, workers join its Ray
cluster through LWS_LEADER_ADDRESS.
"""

from __future__ import annotations

from typing import Any

from llmpod.backends.runtime import startup_budget_s
from llmpod.k8s import contract as c
from llmpod.k8s.names import (
    pull_policy,
    selector_labels,
)
from llmpod.k8s.pod import pod_annotations, pod_spec, resources, serving_container, workload
from llmpod.k8s.pod_security import container_security
from llmpod.k8s.sizing import pod_size, uses_recreate
from llmpod.k8s.weights import scripts_mount, weights_mount
from llmpod.planning.service import ServicePlan
from llmpod.templating import render_template as render

ROLE_LABEL = "llmpod.io/role"


def ray_script(sp: ServicePlan) -> str:
    # Workers and the leader wait for each other at most this long; the startup
    # budget already includes the time for a group to form.
    return render("ray-node.sh.j2", ray_port=c.RAY_PORT, join_rounds=startup_budget_s(sp) // 5)


def leader_labels(sp: ServicePlan) -> dict[str, str]:
    return {**selector_labels(sp), ROLE_LABEL: "leader"}


def worker_labels(sp: ServicePlan) -> dict[str, str]:
    return {**selector_labels(sp), ROLE_LABEL: "worker"}


def _worker_container(sp: ServicePlan) -> dict[str, Any]:
    size = pod_size(sp)
    mounts = [
        {"mountPath": c.HOME, "name": "home"},
        {"mountPath": "/tmp", "name": "tmp"},
        scripts_mount(),
        weights_mount(read_only=True),
    ]
    if size.shm_gib:
        mounts.append({"mountPath": "/dev/shm", "name": "dshm"})
    return {
        "command": ["/bin/sh", f"{c.SCRIPTS_DIR}/ray-node.sh", "worker"],
        "env": [{"name": "HOME", "value": c.HOME}],
        "image": sp.spec.image.reference,
        "imagePullPolicy": pull_policy(sp),
        "name": "ray-worker",
        "resources": resources(sp, size),
        "securityContext": container_security(),
        "volumeMounts": sorted(mounts, key=lambda m: m["mountPath"]),
    }


def rollout(sp: ServicePlan) -> dict[str, Any]:
    # LWS only has RollingUpdate. With whole-node pods there is nowhere to surge
    # a new group, so replace one group at a time instead (the Recreate rule of
    # sizing.uses_recreate applied per group).
    if uses_recreate(sp):
        cfg = {"maxSurge": 0, "maxUnavailable": 1}
    else:
        cfg = {"maxSurge": 1, "maxUnavailable": 0}
    return {"rollingUpdateConfiguration": cfg, "type": "RollingUpdate"}


def leader_worker_set(sp: ServicePlan) -> dict[str, Any]:
    size = pod_size(sp)
    leader = serving_container(sp, ["/bin/sh", f"{c.SCRIPTS_DIR}/ray-node.sh", "leader"])
    spec: dict[str, Any] = {
        "leaderWorkerTemplate": {
            "leaderTemplate": {
                "metadata": {"annotations": pod_annotations(sp), "labels": leader_labels(sp)},
                "spec": pod_spec(sp, [leader], with_plan=True, labels=leader_labels(sp)),
            },
            # A lost pod breaks the Ray cluster and vLLM's NCCL groups: restart
            # the whole group rather than leave a leader waiting on a dead worker.
            "restartPolicy": "RecreateGroupOnPodRestart",
            "size": size.nodes,
            "workerTemplate": {
                "metadata": {"annotations": pod_annotations(sp), "labels": worker_labels(sp)},
                "spec": pod_spec(
                    sp, [_worker_container(sp)], with_plan=False, labels=worker_labels(sp)
                ),
            },
        },
        "rolloutStrategy": rollout(sp),
        # LeaderReady would deadlock: the leader is ready only after the workers
        # joined Ray and vLLM loaded, so workers must start with the leader.
        "startupPolicy": "LeaderCreated",
    }
    return workload(sp, "leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet", spec)
