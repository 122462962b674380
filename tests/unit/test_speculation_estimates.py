"""Speculative decoding in the throughput and latency estimates (issue 24, item 2).

Expected step counts follow from vLLM V1's rules (1 + k tokens verified per
decoding request, 1 + accepted ones kept), not from the cost model: a request
that keeps 4 tokens a step needs a quarter of the decode steps.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, get_args

import pytest
from perf_inputs import llama_8b_h200

from llmpod.cli.main import main
from llmpod.planner import perf
from llmpod.planner.simulate import Scheduler, Workload, simulate
from llmpod.planner.speculation import DEFAULT_ACCEPTANCE_RATE, Speculation
from llmpod.planner.speculative import NO_PROPOSER, ProposerMemory
from llmpod.spec.vllm_options import SpeculativeMethod


@pytest.fixture(scope="module")
def llama() -> perf.PerfInputs:
    return llama_8b_h200()


def _with(
    p: perf.PerfInputs, rate: float, k: int, proposer: ProposerMemory = NO_PROPOSER
) -> perf.PerfInputs:
    spec = Speculation("ngram", k, rate, rate_from_spec=True, proposer=proposer)
    return dataclasses.replace(p, speculation=spec)


SCHED = Scheduler(max_num_seqs=256, max_num_batched_tokens=8192, kv_blocks=50_000, block_size=16)


@pytest.mark.parametrize(("rate", "k", "decode_steps"), [(1.0, 3, 32), (0.5, 2, 64), (0.0, 4, 128)])
def test_a_request_needs_output_over_tokens_kept_per_step_decode_steps(
    llama: perf.PerfInputs, rate: float, k: int, decode_steps: int
) -> None:
    # 1 prefill step gives the first token; the other 128 come 1 + rate·k at a time.
    est = simulate(_with(llama, rate, k), SCHED, Workload("burst", 512, 129, requests=1))
    assert est.steps == 1 + decode_steps
    assert est.completed == 1


def test_fractional_gains_never_overshoot_the_output_length(llama: perf.PerfInputs) -> None:
    # 1 + 0.35·3 = 2.05 tokens a step: 10 requests of 100 tokens still make 1,000 tokens.
    p = _with(llama, 0.35, 3)
    est = simulate(p, SCHED, Workload("burst", 256, 100, requests=10))
    assert est.completed == 10 and est.e2e_p95_s is not None
    assert est.output_tokens_per_s * est.e2e_p95_s == pytest.approx(1000, rel=0.02)


def test_rejected_proposals_cost_verification_and_gain_nothing(llama: perf.PerfInputs) -> None:
    # 128 requests × 5 verified tokens is past where an 8B model's GEMMs turn
    # compute-bound on an H200, so verifying proposals that all fail costs time.
    w = Workload("closed", 512, 256, clients=128, duration_s=60)
    plain = simulate(llama, SCHED, w)
    wasted = simulate(_with(llama, 0.0, 4), SCHED, w)
    assert wasted.output_tokens_per_s < plain.output_tokens_per_s
    assert wasted.itl_p50_s is not None and plain.itl_p50_s is not None
    assert wasted.itl_p50_s > plain.itl_p50_s


def test_one_stream_speeds_up_by_almost_the_tokens_kept(llama: perf.PerfInputs) -> None:
    # One request is bound by reading the weights: verifying 4 tokens costs about
    # what decoding 1 does, so keeping 3 a step is close to 3× (never above it).
    w = Workload("burst", 512, 257, requests=1)
    plain = simulate(llama, SCHED, w)
    spec = simulate(_with(llama, 2 / 3, 3), SCHED, w)
    speedup = spec.output_tokens_per_s / plain.output_tokens_per_s
    assert 2.5 < speedup < 3.0


def test_a_draft_models_passes_are_paid_per_step(llama: perf.PerfInputs) -> None:
    draft = ProposerMemory(weights_bytes=2.5e9, kv_bytes_per_token=32_768, layers=16)
    w = Workload("closed", 512, 256, clients=8, duration_s=60)
    free = simulate(_with(llama, 0.5, 3), SCHED, w)
    paid = simulate(_with(llama, 0.5, 3, draft), SCHED, w)
    assert paid.itl_p50_s is not None and free.itl_p50_s is not None
    # Three passes over 2.5 GB at H200's bandwidth is milliseconds, not noise.
    assert paid.itl_p50_s - free.itl_p50_s > 3 * 2.5e9 / (llama.gpu.hbm_bandwidth_gbs * 1e9) / 2


def test_every_method_has_a_stated_default() -> None:
    assert set(DEFAULT_ACCEPTANCE_RATE) == set(get_args(SpeculativeMethod))
    assert all(0 < r < 1 for r in DEFAULT_ACCEPTANCE_RATE.values())


def _plan(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["plan", "--model", "llama-3.1-8b", "--gpu", "H200", "--json", *argv]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_the_plan_says_which_rate_it_assumed(capsys: pytest.CaptureFixture[str]) -> None:
    base = _plan(capsys)
    default = _plan(capsys, "--speculative-method", "ngram")
    stated = _plan(capsys, "--speculative-method", "ngram", "--speculative-acceptance-rate", "0.8")
    assert "speculative" not in base["estimates"]["method"]
    assert "stated default for ngram" in default["estimates"]["method"]
    assert "keep 15% of proposals" in default["estimates"]["method"]
    assert "the spec's vllm.speculative_acceptance_rate" in stated["estimates"]["method"]
    one = [p["estimates"]["inter_token_latency_s"] for p in (base, default, stated)]
    # 1 + 0.8·3 = 3.4 tokens a step against 1.45: the stated rate is much faster.
    assert one[2] < one[1] < one[0]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--speculative-acceptance-rate", "0.5"], "but --speculative-method is not"),
        (
            ["--speculative-method", "ngram", "--speculative-acceptance-rate", "1.5"],
            "less than or equal to 1",
        ),
    ],
)
def test_bad_acceptance_rates_are_bad_input(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--model", "llama-3.1-8b", "--gpu", "H200", *argv]) == 1
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
