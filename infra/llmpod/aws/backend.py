"""AWS (EC2 behind an ALB) as a deployment backend (see infra/llmpod/backends/base.py)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, ClassVar

from llmpod.backends.base import Backend

if TYPE_CHECKING:
    import pulumi

    from llmpod.planning.service import ServicePlan

#: Set to 1 only where the deploying credentials cannot describe instances.
SKIP_PREFLIGHT_ENV = "LLMPOD_SKIP_AWS_PREFLIGHT"


class AwsBackend(Backend):
    name: ClassVar[str] = "aws"
    section: ClassVar[str] = "aws"
    outputs: ClassVar[tuple[str, ...]] = ("endpoint", "cost_per_hour", "gpus")

    def cost_per_hour(self, sp: ServicePlan) -> float:
        # Whole instances, idle GPUs included, because EC2 bills instances. The same
        # layout the component creates and exports (instances.service_layout).
        from llmpod.aws.instances import service_layout

        return service_layout(sp).cost_per_hour

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
