"""Run each proposed change through the planner and diff it against today's plan.

The layout (TP × PP) and replica count are pinned to the current plan for every
change except the one that changes them, so each diff shows the effect of one
lever, not the planner re-choosing everything at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from llmpod.diagnose.changes import Change, Current
from llmpod.errors import LlmpodError
from llmpod.planner.api import make_plan
from llmpod.planner.evaluate import Evaluation
from llmpod.planner.plan import Plan
from llmpod.planner.quantization import online_quantization
from llmpod.planner.request import PlanRequest


@dataclass(frozen=True)
class PlanSide:
    gpu: str
    layout: str
    replicas: int
    gpus_total: int
    kv_cache_tokens: int
    max_concurrency: float
    cost_per_hour: float
    decode_tokens_per_s_32: float | None

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Outcome:
    change: Change
    after: PlanSide | None
    #: Why the planner refused the change (after is None), or "".
    refused: str = ""


def side(plan: Plan, e: Evaluation) -> PlanSide:
    """``e``: the feasible plan's evaluation (``plan.evaluation``, checked by the caller)."""
    decode = plan.estimates["decode_tokens_per_s"].get("32") if plan.estimates else None
    return PlanSide(
        gpu=e.gpu.key,
        layout=f"TP {e.tp} × PP {e.pp}",
        replicas=plan.replicas,
        gpus_total=plan.gpus_total,
        kv_cache_tokens=e.capacity.tokens,
        max_concurrency=round(e.capacity.max_concurrency, 2),
        cost_per_hour=plan.cost_per_hour,
        decode_tokens_per_s_32=None if decode is None else round(float(decode), 1),
    )


def current_of(req: PlanRequest, plan: Plan, e: Evaluation) -> Current:
    return Current(
        replicas=plan.replicas,
        tp=e.tp,
        pp=e.pp,
        kv_cache_dtype=e.settings.kv_cache_dtype,
        quantized=e.settings.quant is not None,
        max_num_seqs=e.settings.max_num_seqs,
        max_num_batched_tokens=e.settings.max_num_batched_tokens,
        gpus_per_node=e.gpu.max_gpus_per_node,
        gpu_key=e.gpu.key,
        max_replicas=req.max_replicas,
    )


def patched(req: PlanRequest, cur: Current, change: Change) -> PlanRequest:
    """``req`` with the current layout pinned and ``change`` applied."""
    replicas = cur.replicas
    # The GPU type the current plan chose, not the whole preference list.
    gpus = tuple(g for g in req.gpus if g.key == cur.gpu_key) or req.gpus[:1]
    kwargs: dict[str, Any] = {"tp": cur.tp, "pp": cur.pp, "gpus": gpus}
    value = change.value
    if change.lever == "replicas" and isinstance(value, int):
        replicas = value
    elif change.lever == "tensor_parallel_size" and isinstance(value, int):
        kwargs["tp"] = value
    elif change.lever == "kv_cache_dtype":
        kwargs["kv_cache_dtype"] = str(value)
    elif change.lever == "quantization":
        kwargs["online_quantization"] = online_quantization(str(value), req.model)
    elif change.lever in ("max_num_seqs", "max_num_batched_tokens") and isinstance(value, int):
        kwargs["vllm"] = req.vllm.model_copy(update={change.lever: value})
    else:
        raise ValueError(f"cannot apply {change.lever}={value!r} to a plan request")
    kwargs["min_replicas"] = replicas
    kwargs["max_replicas"] = max(replicas, req.max_replicas)
    return dataclasses.replace(req, **kwargs)


def what_if(req: PlanRequest, cur: Current, changes: list[Change]) -> list[Outcome]:
    outcomes = []
    for change in changes:
        try:
            plan = make_plan(patched(req, cur, change))
        except LlmpodError as err:
            outcomes.append(Outcome(change, None, err.render()))
            continue
        if not plan.feasible or plan.evaluation is None:
            outcomes.append(
                Outcome(
                    change,
                    None,
                    plan.errors[0].render()
                    if plan.errors
                    else "the planner found no feasible plan",
                )
            )
            continue
        outcomes.append(Outcome(change, side(plan, plan.evaluation)))
    return outcomes
