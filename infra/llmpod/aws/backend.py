"""AWS (EC2 behind an ALB) as a deployment backend (see infra/llmpod/backends/base.py)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from llmpod.backends.base import Backend

if TYPE_CHECKING:
    import pulumi

    from llmpod.spec.planning import ServicePlan
    from llmpod.spec.service import ServingSpec

#: Set to 1 only where the deploying credentials cannot describe instances.
SKIP_PREFLIGHT_ENV = "LLMPOD_SKIP_AWS_PREFLIGHT"


class AwsBackend(Backend):
    name: ClassVar[str] = "aws"
    section: ClassVar[str] = "aws"

    def check_spec(self, spec: ServingSpec) -> None:
        if spec.aws is None:
            raise ValueError("backend 'aws' needs an 'aws' section (at least aws.region)")
        if spec.replicas.autoscale:
            # No scaling policy on the Auto Scaling group yet: accepting the flag
            # would promise queue-based scaling that never happens.
            raise ValueError(
                "replicas.autoscale is not supported with backend: aws yet; the "
                "Auto Scaling group runs the planned replica count (set "
                "autoscale: false, and size with targets.concurrency)"
            )

    def section_given(self, spec: ServingSpec) -> bool:
        return spec.aws is not None

    def cost_per_hour(self, sp: ServicePlan) -> float:
        # Whole instances, idle GPUs included, because EC2 bills instances.
        from llmpod.aws.instances import layout_for

        e = sp.evaluation
        return layout_for(
            e.gpu, e.gpus_per_replica, sp.plan.replicas, sp.spec.replicas.max
        ).cost_per_hour

    def preflight(self, plans: list[ServicePlan]) -> None:
        if os.environ.get(SKIP_PREFLIGHT_ENV) == "1":
            return
        # Looked up on the module at call time (tests replace it there).
        from llmpod.aws import preflight

        # Instance type offered in the region, GPU count/memory as catalogued,
        # weights present in S3 — before any resource exists.
        preflight.require_preflight(plans)

    def component(self, sp: ServicePlan, shared: Any) -> pulumi.ComponentResource:
        import pulumi

        from llmpod.aws.component import AwsVllmService  # pulumi-aws is heavy: only when used

        return AwsVllmService(sp.name, sp, opts=pulumi.ResourceOptions())
