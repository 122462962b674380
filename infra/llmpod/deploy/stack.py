"""A whole stack planned, each service priced by its own backend, the cost cap checked.

Planning happens before any resource is registered: an infeasible service or a
stack over its cost cap is an error here, so `pulumi preview` and `llmpod render`
stop with the planner's explanation instead of creating pods that would crash-loop.
"""

from __future__ import annotations

from llmpod.deploy.registry import backend_for
from llmpod.errors import LlmpodError
from llmpod.planning.service import ServicePlan, plan_service
from llmpod.spec.stack import StackSpec


def cost_per_hour(sp: ServicePlan) -> float:
    """What the service costs to run at its planned size, as its backend bills it
    (Kubernetes: its GPUs; AWS: whole instances, idle GPUs included)."""
    return backend_for(sp.spec.backend).cost_per_hour(sp)


def plan_stack(stack: StackSpec) -> list[ServicePlan]:
    """Plan every service, or raise on the first that cannot be served."""
    plans = [
        plan_service(s, stack.environment, skip_await=stack.skip_await) for s in stack.services
    ]
    cap = stack.cost_cap_per_hour
    total = sum(cost_per_hour(p) for p in plans)
    if cap is not None and total > cap:
        raise LlmpodError(
            code="cost_cap_exceeded",
            message=(
                f"the {stack.environment} stack would cost ${total:.2f}/hour, above its "
                f"llmpod:costCapPerHour of ${cap:.2f}: "
                + ", ".join(f"{p.name} ${cost_per_hour(p):.2f}" for p in plans)
                + "."
            ),
            suggestions=["lower replicas or targets", "raise llmpod:costCapPerHour"],
            exit_code=2,
        )
    return plans
