"""The step-cost inputs of one real plan, for the simulation and estimate tests."""

from __future__ import annotations

from llmpod.gpus.catalog import find_gpu
from llmpod.models.resolve import resolve_model
from llmpod.planner.api import make_plan
from llmpod.planner.perf import PerfInputs
from llmpod.planner.request import PlanRequest


def llama_8b_h200(max_model_len: int = 32768) -> PerfInputs:
    """Llama-3.1-8B on one H200 (TP 1), as the planner would serve it; a new object
    per call (equal in value to the last)."""
    m = resolve_model("llama-3.1-8b")
    plan = make_plan(
        PlanRequest(
            model=m.facts,
            gpus=(find_gpu("H200"),),
            model_path=m.container_path,
            served_model_name=m.served_name,
            tp=1,
            max_model_len=max_model_len,
        )
    )
    assert plan.evaluation is not None
    return plan.evaluation.perf
