"""The part of a plan a reviewer compares across environments.

Built from ``Plan.to_json()`` (the planner's public contract), so a diff shows
exactly what `llmpod plan --json` prints: GPU type and count, TP/PP, replicas,
nodes, cost per hour, estimated cost per million output tokens with the price
source and date, and the vLLM argument list the container runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmpod.deploy.stack import cost_per_hour
from llmpod.errors import LlmpodError
from llmpod.planning.service import ServicePlan
from llmpod.spec.service import ServingSpec
from llmpod.spec.stack import StackSpec


@dataclass(frozen=True)
class PlanSummary:
    gpu: str | None = None
    gpus_per_replica: int = 0
    tensor_parallel: int = 0
    pipeline_parallel: int = 0
    replicas: int = 0
    nodes_per_replica: int = 0
    cost_per_hour: float = 0.0
    cost_per_million_output_tokens: float | None = None
    #: At the service's workload (estimates.workload), when it states one.
    workload_cost_per_million_output: float | None = None
    workload_cost_per_million_input: float | None = None
    price_per_gpu_hour: float = 0.0
    price_source: str | None = None
    price_as_of: str | None = None
    vllm_version: str = ""
    vllm_args: tuple[str, ...] = ()
    #: Set when the service cannot be planned (the planner's message).
    error: str | None = None

    @property
    def gpus_total(self) -> int:
        return self.gpus_per_replica * self.replicas

    @classmethod
    def from_plan_json(cls, data: dict[str, Any]) -> PlanSummary:
        cost = data["cost"]
        traffic = (data.get("estimates") or {}).get("workload") or {}
        per_m = traffic.get("cost_per_million_tokens") or {}
        return cls(
            workload_cost_per_million_output=per_m.get("output"),
            workload_cost_per_million_input=per_m.get("input"),
            gpu=data["gpu"],
            gpus_per_replica=int(data["gpus_per_replica"] or 0),
            tensor_parallel=int(data["tensor_parallel_size"] or 0),
            pipeline_parallel=int(data["pipeline_parallel_size"] or 0),
            replicas=int(data["replicas"] or 0),
            nodes_per_replica=int(data["nodes_per_replica"] or 0),
            cost_per_hour=float(cost["per_hour"]),
            cost_per_million_output_tokens=cost["per_million_output_tokens"],
            price_per_gpu_hour=float(cost["price_per_gpu_hour"]),
            price_source=cost["source"],
            price_as_of=cost["as_of"],
            vllm_version=str(data.get("vllm_version") or ""),
            vllm_args=tuple(data["vllm_args"]),
        )


def summarize_service(spec: ServingSpec, environment: str) -> PlanSummary:
    """Plan one service; an unplannable service becomes a summary carrying its error."""
    from llmpod.planning.service import plan_service

    try:
        sp = plan_service(spec, environment)
    except LlmpodError as err:
        return PlanSummary(error=err.render())
    return summarize_service_plan(sp)


def summarize_service_plan(sp: ServicePlan) -> PlanSummary:
    """Summary of a planned service, costed as its backend bills it."""
    summary = summarize_plan(sp.plan.to_json())
    billed = cost_per_hour(sp)
    if billed == summary.cost_per_hour:
        return summary
    # Both backends bill whole nodes/instances: the service's cost is theirs, and the
    # per-token estimate scales with it, from the unrounded GPU cost (the plan's
    # per_hour is rounded to cents, which made 1 and 2 replicas differ by a tenth of
    # a cent per 1M tokens).
    from dataclasses import replace

    per_m = summary.cost_per_million_output_tokens
    gpu_hourly = sp.plan.gpus_total * sp.plan.price_per_gpu_hour
    scale = billed / gpu_hourly if gpu_hourly else 1.0
    w_out, w_in = summary.workload_cost_per_million_output, summary.workload_cost_per_million_input
    return replace(
        summary,
        cost_per_hour=billed,
        cost_per_million_output_tokens=round(per_m * scale, 3) if per_m else per_m,
        workload_cost_per_million_output=round(w_out * scale, 3) if w_out else w_out,
        workload_cost_per_million_input=round(w_in * scale, 3) if w_in else w_in,
    )


def summarize_plan(plan_json: dict[str, Any]) -> PlanSummary:
    """Name the stack as the price source when it overrides the catalog price.

    ``Plan.to_json()`` reports the catalog's source even when
    ``gpus.price_per_gpu_hour`` replaced the price; a reviewer must not read a
    negotiated price as a public list price.
    """
    from dataclasses import replace

    from llmpod.gpus.catalog import find_gpu

    summary = PlanSummary.from_plan_json(plan_json)
    if summary.gpu is None:
        return summary
    if abs(find_gpu(summary.gpu).price_per_gpu_hour - summary.price_per_gpu_hour) < 1e-9:
        return summary
    return replace(
        summary,
        price_source="gpus.price_per_gpu_hour in the stack spec",
        price_as_of="as configured",
    )


def summarize_stack(stack: StackSpec) -> dict[str, PlanSummary]:
    return {s.name: summarize_service(s, stack.environment) for s in stack.services}
