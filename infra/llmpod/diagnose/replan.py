"""Re-plan the running service for the traffic its metrics show (issue 19, item 5).

The same planner that sized the service, given the workload the window shows
(prompt and output lengths, requests in the server, prefix-cache share:
diagnose/workload.py) and the TTFT target when one was given, says which layout
and replica count carry that load and what they cost — a fix stated as a plan,
not as a rule of thumb.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from llmpod.diagnose.snapshot import Snapshot
from llmpod.diagnose.workload import observed_workload
from llmpod.errors import LlmpodError
from llmpod.planner.api import make_plan
from llmpod.planner.plan import Plan
from llmpod.planner.request import PlanRequest
from llmpod.planner.workload import Workload


@dataclass(frozen=True)
class Replan:
    workload: str
    #: The plan for that traffic (None: the window shows no finished request).
    plan: Plan | None
    now_cost_per_hour: float
    why_not: str = ""

    def as_json(self) -> dict[str, object]:
        if self.plan is None:
            return {"workload": self.workload, "plan": None, "why_not": self.why_not}
        p = self.plan.to_json()
        return {
            "workload": self.workload,
            "feasible": p["feasible"],
            "gpu": p["gpu"],
            "tensor_parallel_size": p["tensor_parallel_size"],
            "pipeline_parallel_size": p["pipeline_parallel_size"],
            "replicas": p["replicas"],
            "cost_per_hour": p["cost"]["per_hour"],
            "cost_change_per_hour": round(p["cost"]["per_hour"] - self.now_cost_per_hour, 2),
            "estimates": p["estimates"].get("workload"),
            "errors": p["errors"],
        }

    def line(self) -> str:
        if self.plan is None:
            return f"no re-plan: {self.why_not}"
        p = self.plan
        if not p.feasible:
            return f"for {self.workload}: {p.errors[0].message}"
        e = p.evaluation
        assert e is not None
        w = p.estimates.get("workload") if p.estimates else None
        ttft = w.get("ttft_ms") if w else None
        p95 = ttft.get("p95") if isinstance(ttft, dict) else None
        delta = p.cost_per_hour - self.now_cost_per_hour
        return (
            f"for {self.workload}: {p.replicas}×{e.gpus_per_replica} {e.gpu.key} "
            f"(TP {e.tp}, PP {e.pp}), ${p.cost_per_hour:,.2f}/h ({delta:+,.2f})"
            + (f", TTFT p95 {p95:,.0f} ms" if p95 is not None else "")
        )


def replan_for_traffic(
    request: PlanRequest,
    now: Plan,
    series: Sequence[Snapshot],
    ttft_target_s: float | None,
) -> Replan:
    try:
        seen = observed_workload(series, source="the window")
    except LlmpodError as err:
        return Replan("no traffic", None, now.cost_per_hour, err.message)
    users = max(1, round(seen.in_system_mean))
    workload = Workload(
        kind="closed",
        prompt_tokens=max(1, round(seen.prompt_tokens_mean)),
        output_tokens=max(1, round(seen.output_tokens_mean)),
        clients=users,
        prefix_hit=seen.prefix_hit or 0.0,
    )
    targets = request.targets
    if ttft_target_s is not None:
        targets = replace(targets, ttft_p95_s=ttft_target_s)
    described = (
        f"{users} requests in the server, {workload.prompt_tokens} tokens in / "
        f"{workload.output_tokens} out"
    )
    plan = make_plan(replace(request, workload=workload, targets=targets, tp=None, pp=None))
    return Replan(described, plan, now.cost_per_hour)
