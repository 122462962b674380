"""The traffic sizing remembers simulations by value (planning speed, issue 19)."""

from __future__ import annotations

import dataclasses

from llmpod.gpus.catalog import find_gpu
from llmpod.models.resolve import resolve_model
from llmpod.planner import traffic
from llmpod.planner.api import make_plan
from llmpod.planner.perf import PerfInputs
from llmpod.planner.request import PlanRequest
from llmpod.planner.simulate import Scheduler, Workload, simulate


def _perf() -> PerfInputs:
    m = resolve_model("llama-3.1-8b")
    plan = make_plan(
        PlanRequest(
            model=m.facts,
            gpus=(find_gpu("H200"),),
            model_path=m.container_path,
            served_model_name=m.served_name,
            tp=1,
            max_model_len=8192,
        )
    )
    assert plan.evaluation is not None
    return plan.evaluation.perf


SCHED = Scheduler(max_num_seqs=64, max_num_batched_tokens=8192, kv_blocks=20_000, block_size=16)
LOAD = Workload("closed", 512, 64, clients=8, duration_s=10)


def test_equal_inputs_from_another_search_reuse_the_simulation() -> None:
    first, again = _perf(), _perf()  # two plans: equal values, different objects
    assert first is not again and first == again
    est = traffic._simulate(first, SCHED, LOAD)
    assert traffic._simulate(again, SCHED, LOAD) is est
    assert est == simulate(first, SCHED, LOAD)


def test_other_constants_are_simulated_again() -> None:
    p = _perf()
    est = traffic._simulate(p, SCHED, LOAD)
    cal = p.calibration
    slower = dataclasses.replace(cal, step_overhead_s=cal.step_overhead_s * 3)
    other = dataclasses.replace(p, calibration=slower)
    est2 = traffic._simulate(other, SCHED, LOAD)
    assert est2 is not est and est2.itl_p50_s != est.itl_p50_s


def test_the_memo_stays_bounded() -> None:
    p = _perf()
    for clients in range(1, traffic.MEMO_SIZE + 20):
        tiny = Workload("closed", 16, 2, clients=clients, duration_s=0.05)
        traffic._simulate(p, SCHED, tiny)
    assert len(traffic._memo) == traffic.MEMO_SIZE
