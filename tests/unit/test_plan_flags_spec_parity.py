"""`llmpod plan FLAGS` and a one-service stack with the same values plan byte-identically:
one request builder (planning.service.request_for), so the same defaults, the same
validation and the same exit codes whichever way a user comes in (issue 22)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmpod.cli.main import main
from llmpod.errors import LlmpodError
from llmpod.planning.service import plan_service
from llmpod.spec.stack import StackSpec


def _stack_plan(service: dict[str, Any]) -> str:
    stack = StackSpec.from_config(
        {"llmpod:environment": "dev", "llmpod:services": [{"name": "chat", **service}]},
        where="test",
    )
    sp = plan_service(stack.services[0], stack.environment)
    return json.dumps(sp.plan.to_json(), indent=2)


def _cli_plan(capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str]:
    code = main(["plan", *flags, "--json"])
    return code, capsys.readouterr().out.strip()


CASES = [
    # Only the model and the GPU: every default comes from the spec (16 GPUs and
    # 2 nodes per replica, 1-4 replicas, 400 MiB/s, vLLM 0.32.0).
    (["--model", "llama-3.1-70b", "--gpu", "L40S"], {"model": "llama-3.1-70b"}, "L40S"),
    (
        [
            "--model",
            "qwen2.5-7b",
            "--gpu",
            "L4",
            "--gpu",
            "A10G",
            "--max-model-len",
            "16384",
            "--kv-cache-dtype",
            "fp8",
            "--dtype",
            "bf16",
            "--full-context-concurrency",
            "12",
            "--ttft-ms",
            "900",
            "--inter-token-latency-ms",
            "80",
            "--throughput-tokens-per-s",
            "50",
            "--max-gpus",
            "4",
            "--max-nodes",
            "1",
            "--min-replicas",
            "2",
            "--max-replicas",
            "6",
            "--max-num-seqs",
            "64",
            "--vllm-version",
            "0.11.0",
            "--load-bandwidth-mb-s",
            "250",
        ],
        {
            "model": "qwen2.5-7b",
            "max_model_len": 16384,
            "kv_cache_dtype": "fp8",
            "dtype": "bfloat16",
            "targets": {
                "concurrency": 12,
                "ttft_ms": 900,
                "inter_token_latency_ms": 80,
                "throughput_tokens_per_s": 50,
            },
            "gpus": {"types": ["L4", "A10G"], "max_per_replica": 4, "max_nodes": 1},
            "replicas": {"min": 2, "max": 6},
            "vllm": {"max_num_seqs": 64},
            "image": {"vllm_version": "0.11.0"},
            "weights": {"load_bandwidth_mb_s": 250},
        },
        None,
    ),
    (
        ["--model", "llama-3.1-8b", "--gpu", "H100", "--kv-tokens", "2000000"],
        {"model": "llama-3.1-8b", "targets": {"kv_tokens": 2000000}},
        "H100",
    ),
]


@pytest.mark.parametrize(("flags", "service", "gpu"), CASES)
def test_flags_and_a_stack_service_plan_byte_identically(
    capsys: pytest.CaptureFixture[str], flags: list[str], service: dict[str, Any], gpu: str | None
) -> None:
    if gpu is not None:
        service = {**service, "gpus": {"types": [gpu]}}
    code, out = _cli_plan(capsys, *flags)
    assert code == 0, out
    assert out == _stack_plan(service)


def test_does_not_fit_is_exit_2_both_ways(capsys: pytest.CaptureFixture[str]) -> None:
    # 70B in bf16 (131 GiB of weights) cannot fit two 24 GiB A10Gs.
    code, out = _cli_plan(capsys, "--model", "llama-3.1-70b", "--gpu", "A10G", "--max-gpus", "2")
    assert code == 2
    cli_error = json.loads(out)["errors"][0]
    with pytest.raises(LlmpodError) as info:
        _stack_plan({"model": "llama-3.1-70b", "gpus": {"types": ["A10G"], "max_per_replica": 2}})
    assert info.value.exit_code == 2
    assert info.value.code == cli_error["code"]


@pytest.mark.parametrize(
    ("flags", "service", "flag"),
    [
        (["--max-nodes", "9"], {"gpus": {"types": ["L4"], "max_nodes": 9}}, "--max-nodes"),
        (
            ["--max-replicas", "1", "--min-replicas", "3"],
            {"replicas": {"min": 3, "max": 1}},
            "--min-replicas/--max-replicas",
        ),
        (["--vllm-version", "0.9.0"], {"image": {"vllm_version": "0.9.0"}}, "--vllm-version"),
    ],
)
def test_bad_input_is_exit_1_both_ways(
    capsys: pytest.CaptureFixture[str], flags: list[str], service: dict[str, Any], flag: str
) -> None:
    code, out = _cli_plan(capsys, "--model", "llama-3.1-8b", "--gpu", "L4", *flags)
    assert code == 1
    assert flag in json.loads(out)["errors"][0]["message"]
    with pytest.raises(LlmpodError) as info:
        _stack_plan({"model": "llama-3.1-8b", **service})
    assert info.value.exit_code == 1
