"""Single-node plans: one Deployment, one pod per replica."""

from __future__ import annotations

from typing import Any

from llmpod.k8s.names import selector_labels
from llmpod.k8s.pod import pod_annotations, pod_spec, serving_container, workload
from llmpod.k8s.sizing import await_timeout_s, uses_recreate
from llmpod.planning.service import ServicePlan


def strategy(sp: ServicePlan) -> dict[str, Any]:
    if uses_recreate(sp):
        return {"type": "Recreate"}
    # maxUnavailable 0: capacity never drops during a rollout; the surge pod
    # uses spare GPUs on a partially used node (see sizing.uses_recreate).
    return {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}, "type": "RollingUpdate"}


def deployment(sp: ServicePlan) -> dict[str, Any]:
    spec: dict[str, Any] = {
        # A replica that loaded and warmed up must stay ready this long before
        # the rollout moves on (catches pods that die right after warmup).
        "minReadySeconds": 10,
        # Rollouts of big models take long; fail them only well past the budget.
        "progressDeadlineSeconds": await_timeout_s(sp),
        "revisionHistoryLimit": 3,
        "selector": {"matchLabels": selector_labels(sp)},
        "strategy": strategy(sp),
        "template": {
            "metadata": {"annotations": pod_annotations(sp), "labels": selector_labels(sp)},
            "spec": pod_spec(
                sp,
                [serving_container(sp)],
                with_plan=True,
                labels=selector_labels(sp),
                revision_key="pod-template-hash",
            ),
        },
    }
    return workload(sp, "apps/v1", "Deployment", spec)
