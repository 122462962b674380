"""The scheduler simulation follows vLLM V1's rules (issue 19).

Each test sets up a situation whose outcome the scheduler rules decide and
checks the simulation reaches it; expected step counts come from the rules
(token budget, block size, max_num_seqs), costs from the same step-cost
function the simulation calls, so a wrong rule — not a wrong constant — fails.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from perf_inputs import llama_8b_h200

from llmpod.gpus.catalog import find_gpu
from llmpod.models.resolve import resolve_model
from llmpod.planner import perf
from llmpod.planner.api import make_plan
from llmpod.planner.calibration import FrontEndCosts
from llmpod.planner.request import PlanRequest
from llmpod.planner.simulate import Scheduler, Workload, simulate


@pytest.fixture(scope="module")
def llama() -> Any:
    return llama_8b_h200()


def roomy(**kw: int) -> Scheduler:
    base = {"max_num_seqs": 1024, "max_num_batched_tokens": 8192, "kv_blocks": 50_000}
    return Scheduler(block_size=16, **{**base, **kw})


def test_one_request_pays_one_prefill_then_one_decode_step_per_token(llama: Any) -> None:
    est = simulate(llama, roomy(), Workload("burst", 512, 4, requests=1))
    prefill = perf.mixed_step_s(
        llama,
        sequences=1,
        new_tokens=512,
        decode_context_tokens=0,
        prefill_attention_pairs=512 * 256,
    )
    # The API server takes the request in and streams the token; the measured
    # per-request overhead already holds that work when nothing else is running.
    api = llama.calibration.frontend
    unloaded = api.intake_s + api.prompt_token_s * 512 + api.step_s + api.token_s
    overhead = max(llama.calibration.request_overhead_s, unloaded)
    assert est.ttft_p50_s == pytest.approx(prefill + overhead)
    decodes = [
        perf.mixed_step_s(
            llama, sequences=1, new_tokens=1, decode_context_tokens=ctx, prefill_attention_pairs=0
        )
        for ctx in (512, 513, 514)
    ]
    assert est.itl_p50_s == pytest.approx(sum(decodes) / 3)
    assert est.steps == 4 and est.completed == 1 and est.preemptions == 0


def test_a_prompt_longer_than_the_token_budget_is_chunked(llama: Any) -> None:
    est = simulate(
        llama,
        roomy(max_num_batched_tokens=2048),
        Workload("burst", prompt_tokens=10_000, output_tokens=1, requests=1),
    )
    assert est.steps == math.ceil(10_000 / 2048)


def test_max_num_seqs_serialises_requests(llama: Any) -> None:
    # An API server that takes no time: all four reach the scheduler at once.
    free = with_api_server(llama)
    one_at_a_time = simulate(free, roomy(max_num_seqs=1), Workload("burst", 128, 64, requests=4))
    together = simulate(free, roomy(), Workload("burst", 128, 64, requests=4))
    # Four requests one after another take four times the steps of one.
    assert one_at_a_time.steps == 4 * 64
    assert together.steps == 64
    assert together.output_tokens_per_s > 3 * one_at_a_time.output_tokens_per_s


def test_too_few_kv_blocks_preempt_and_recompute(llama: Any) -> None:
    # Each request ends at 256 + 256 tokens = 32 blocks; 8 requests need 256 blocks.
    tight = simulate(llama, roomy(kv_blocks=150), Workload("burst", 256, 256, requests=8))
    ample = simulate(llama, roomy(kv_blocks=256), Workload("burst", 256, 256, requests=8))
    assert ample.preemptions == 0 and ample.completed == 8
    assert tight.preemptions > 0 and tight.completed == 8
    assert tight.kv_peak_utilisation == pytest.approx(1.0, abs=0.05)
    assert tight.output_tokens_per_s < ample.output_tokens_per_s


def test_prefix_cache_hits_shorten_time_to_first_token(llama: Any) -> None:
    cold = simulate(llama, roomy(), Workload("burst", 4096, 2, requests=16))
    warm = simulate(llama, roomy(), Workload("burst", 4096, 2, requests=16, prefix_hit=0.75))
    assert warm.ttft_p50_s is not None and cold.ttft_p50_s is not None
    assert warm.ttft_p50_s < 0.5 * cold.ttft_p50_s


def test_a_closed_loop_keeps_its_users_busy_for_the_duration(llama: Any) -> None:
    w = Workload("closed", prompt_tokens=512, output_tokens=128, clients=8, duration_s=20.0)
    est = simulate(llama, roomy(), w)
    assert est.e2e_p50_s is not None
    # Little's law: users ≈ throughput (requests/s) × time in system.
    assert est.requests_per_s * est.e2e_p50_s == pytest.approx(8, rel=0.15)


def test_a_light_open_load_sees_the_unloaded_latency(llama: Any) -> None:
    alone = simulate(llama, roomy(), Workload("burst", 512, 64, requests=1))
    light = simulate(llama, roomy(), Workload("open", 512, 64, rate_per_s=0.2, duration_s=60))
    assert light.ttft_p95_s == pytest.approx(alone.ttft_p50_s, rel=0.01)
    assert light.completed == 12


def test_the_same_workload_gives_the_same_numbers(llama: Any) -> None:
    w = Workload("closed", prompt_tokens=700, output_tokens=90, clients=40, duration_s=15.0)
    assert simulate(llama, roomy(), w) == simulate(llama, roomy(), w)


def with_api_server(perf_inputs: Any, **costs: Any) -> Any:
    cal = perf_inputs.calibration
    return replace(perf_inputs, calibration=replace(cal, frontend=FrontEndCosts(**costs)))


def test_a_slow_api_server_caps_the_token_rate_the_clients_see(llama: Any) -> None:
    # 1 ms of API-server CPU a token: 64 streams cannot get more than 1,000 tokens/s,
    # however fast the GPU makes them (a free server is the GPU-bound reference).
    w = Workload("closed", prompt_tokens=128, output_tokens=256, clients=64, duration_s=20.0)
    free = simulate(with_api_server(llama), roomy(), w)
    # All of it in the output handler, which yields between slices of 32 outputs
    # (a handler behind on steps of at most `chunk` outputs would not yield at all).
    slow = simulate(with_api_server(llama, token_s=1e-3, output_share=1.0, chunk=32), roomy(), w)
    assert free.output_tokens_per_s > 2_000
    assert slow.output_tokens_per_s <= 1_000 * 1.001
    assert slow.output_tokens_per_s > 0.9 * 1_000
    assert slow.itl_p50_s is not None and slow.itl_p50_s >= 64 * 1e-3 * 0.99


def test_a_backlog_of_small_steps_streams_merged_chunks(llama: Any) -> None:
    # 1 ms a token: 0.25 ms in the output handler (always paid), 0.75 ms to write a
    # chunk. vLLM yields to the request tasks only between slices of `chunk` outputs:
    # behind on steps of at most `chunk` sequences, a request's chunk carries every
    # token merged since, so only the handler's 0.25 ms × 64 a step is left to cap
    # the rate (4,000 tokens/s); slices of 32 yield inside every step and never merge.
    w = Workload("closed", prompt_tokens=128, output_tokens=256, clients=64, duration_s=20.0)
    costs = {"token_s": 1e-3, "output_share": 0.25}
    merges = simulate(with_api_server(llama, **costs, chunk=128), roomy(), w)
    never = simulate(with_api_server(llama, **costs, chunk=32), roomy(), w)
    assert never.output_tokens_per_s <= 1_000 * 1.001
    assert 3 * never.output_tokens_per_s < merges.output_tokens_per_s <= 4_000 * 1.001


def test_a_loop_that_merges_keeps_up_with_the_gpu(llama: Any) -> None:
    # Unmerged, 64 streams at 1 ms a token would need 64 ms a step, several times the
    # GPU's step; but the handler's own share (50 µs × 64 = 3.2 ms) fits in a step, so
    # the backlog settles where each chunk carries enough tokens (T = chunk_s·R /
    # (1 − h/τ)): clients get the GPU's rate, not a backlog growing without bound.
    w = Workload("closed", prompt_tokens=128, output_tokens=256, clients=64, duration_s=20.0)
    free = simulate(with_api_server(llama), roomy(), w)
    merged = simulate(with_api_server(llama, token_s=1e-3, output_share=0.05), roomy(), w)
    assert 3 * (free.itl_p50_s or 0.0) < 64e-3
    assert merged.output_tokens_per_s > 0.85 * free.output_tokens_per_s
    assert merged.ttft_p95_s is not None and merged.ttft_p95_s < 0.5


def test_only_the_loops_share_of_a_requests_work_delays_its_first_token(llama: Any) -> None:
    # The tokenizer pool's share of a request's work runs beside the asyncio loop.
    w = Workload("burst", prompt_tokens=64, output_tokens=4, requests=1)
    whole = simulate(with_api_server(llama, request_s=0.05), roomy(), w)
    split = simulate(with_api_server(llama, request_s=0.05, intake_share=0.2), roomy(), w)
    assert whole.ttft_p50_s is not None and split.ttft_p50_s is not None
    assert whole.ttft_p50_s - split.ttft_p50_s == pytest.approx(0.04, rel=0.05)


def test_intake_delays_the_first_token_of_a_burst(llama: Any) -> None:
    # 100 requests at once, 10 ms each to take in, one after another: the 95th
    # reaches the scheduler 0.95 s after they were sent.
    w = Workload("burst", prompt_tokens=64, output_tokens=2, requests=100)
    quick = simulate(with_api_server(llama), roomy(), w)
    slow = simulate(with_api_server(llama, request_s=0.01), roomy(), w)
    assert quick.ttft_p95_s is not None and slow.ttft_p95_s is not None
    assert quick.ttft_p95_s < 0.2
    assert slow.ttft_p95_s >= 0.95


def test_the_output_handler_yields_after_the_steps_its_reader_took() -> None:
    # vLLM 0.26.0: the handler's queue is filled by the socket-reader task on the
    # same loop, so however far behind, it handles what the reader took, yields
    # (the woken streams write their chunks), and only then gets the next steps.
    # Handler 0.5 s a step, chunk 0.1 s: busy with step 1 (ends 1.0) until 1.5.
    from llmpod.planner.simulate import _ApiServer, _Request

    server = _ApiServer(FrontEndCosts(step_s=0.5, token_s=0.1, output_share=0.0))
    r = _Request(0.0, 8, 100, 0)
    assert server.stream(1.0, [(r, 1)]) == []
    # Step 2 ended while step 1 was being handled: not in the queue the reader
    # filled at 1.0, so the handler yields first and r's token goes out at 1.5.
    assert server.stream(1.2, [(r, 1)]) == [(1.5, {r: 1})]
    # The reader ran after that chunk (1.6) and took step 3 (ended 1.55) with
    # step 2: both handled before the next yield.
    assert server.stream(1.55, [(r, 1)]) == []
    assert server.stream(2.7, [(r, 1)]) == [(2.6, {r: 2})]


def test_a_decode_only_step_costs_what_the_general_step_formula_says(llama: Any) -> None:
    # The simulation prices steps of decodes alone with perf.decode_only_step_s
    # (the context-free terms computed once): it must give mixed_step_s's floats
    # exactly, or the same workload would give other numbers on the fast path.
    from llmpod.planner.speculation import Speculation
    from llmpod.planner.speculative import ProposerMemory

    moe_model = resolve_model("Qwen/Qwen3-30B-A3B")
    moe_plan = make_plan(
        PlanRequest(
            model=moe_model.facts,
            gpus=(find_gpu("H200"),),
            model_path=moe_model.container_path,
            served_model_name=moe_model.served_name,
            tp=1,
        )
    )
    assert moe_plan.evaluation is not None
    eagle = Speculation("eagle", 3, 0.6, rate_from_spec=True, proposer=ProposerMemory(2e8, 4096, 1))
    variants = [
        llama,
        replace(llama, tp=2),
        replace(llama, pp=2),
        replace(llama, speculation=eagle),
        moe_plan.evaluation.perf,
    ]
    for p in variants:
        for n in (1, 7, 64, 300):
            step_s = perf.decode_only_step_s(p, n)
            for context in (0, 1, 12_345, 2_000_003):
                general = perf.mixed_step_s(
                    p,
                    sequences=n,
                    new_tokens=n,
                    decode_context_tokens=context,
                    prefill_attention_pairs=0.0,
                    proposing=n,
                )
                assert step_s(context) == general
