"""The traffic sizing remembers simulations by value (planning speed, issue 19)."""

from __future__ import annotations

import dataclasses

from perf_inputs import llama_8b_h200

from llmpod.planner import traffic
from llmpod.planner.perf import PerfInputs
from llmpod.planner.simulate import Scheduler, Workload, simulate


def _perf() -> PerfInputs:
    return llama_8b_h200(8192)


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
