"""VllmService: one planned model served on Kubernetes.

Everything it creates comes from ``llmpod.k8s.build_manifests`` (pure); this
class only registers those objects with Pulumi, as children of itself, and
exposes what reviewers look at: endpoint, plan summary, GPUs, cost per hour.
"""

from __future__ import annotations

from typing import Any

import pulumi

from llmpod.k8s.contract import SERVICE_PORT
from llmpod.k8s.manifests import build_manifests
from llmpod.k8s.network import service as service_object
from llmpod.k8s.pulumi_objects import register
from llmpod.planning.service import ServicePlan


def plan_summary(sp: ServicePlan) -> dict[str, Any]:
    e = sp.evaluation
    return {
        "gpu": e.gpu.key,
        "gpus_per_replica": e.gpus_per_replica,
        "max_model_len": e.settings.max_model_len,
        "model": sp.spec.model,
        "nodes_per_replica": e.nodes_per_replica,
        "pipeline_parallel_size": e.pp,
        "replicas": sp.plan.replicas,
        "tensor_parallel_size": e.tp,
        "vllm_args": list(sp.plan.vllm_args),
    }


class VllmService(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    plan: pulumi.Output[dict[str, Any]]
    gpus: pulumi.Output[int]
    cost_per_hour: pulumi.Output[float]

    def __init__(
        self, name: str, service_plan: ServicePlan, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llmpod:kubernetes:VllmService", name, None, opts)
        # Children do not inherit the component's depends_on (the Namespace their
        # objects land in): pass it on, so nothing is sent before its namespace exists.
        child = pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None)
        self.objects = {
            obj["kind"] + "/" + obj["metadata"]["name"]: register(obj, child)
            for obj in build_manifests(service_plan)
        }
        svc = service_object(service_plan)["metadata"]
        self.endpoint = pulumi.Output.from_input(
            f"http://{svc['name']}.{svc['namespace']}.svc:{SERVICE_PORT}"
        )
        self.plan = pulumi.Output.from_input(plan_summary(service_plan))
        self.gpus = pulumi.Output.from_input(service_plan.plan.gpus_total)
        self.cost_per_hour = pulumi.Output.from_input(service_plan.plan.cost_per_hour)
        self.register_outputs(
            {
                "costPerHour": self.cost_per_hour,
                "endpoint": self.endpoint,
                "gpus": self.gpus,
                "plan": self.plan,
            }
        )
