"""Golden argument lists: the exact `vllm serve` arguments for representative plans.

Each expected list is written out by hand from the plan's facts (why each value
is what it is is in the comment); a change in any flag is a visible diff here.
"""

from __future__ import annotations

import json

import pytest

from llmpod.cli.main import main
from llmpod.planner.vllm_args import VllmArgs


def plan_args(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main(["plan", *argv, "--json"]) == 0
    args: list[str] = json.loads(capsys.readouterr().out)["vllm_args"]
    return args


def test_llama_8b_on_one_h100(capsys: pytest.CaptureFixture[str]) -> None:
    # TP 1; vLLM 0.32 defaults: util 0.92, H100 API-server batch 1024 seqs / 8192 tokens.
    assert plan_args(
        capsys,
        "--model",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--gpu",
        "H100",
        "--max-model-len",
        "8192",
    ) == [
        "/models/meta-llama/Llama-3.1-8B-Instruct",
        "--served-model-name",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--tensor-parallel-size",
        "1",
        "--max-model-len",
        "8192",
        "--gpu-memory-utilization",
        "0.92",
        "--max-num-seqs",
        "1024",
        "--max-num-batched-tokens",
        "8192",
    ]


def test_llama_70b_tp4_fp8_cache_on_a100(capsys: pytest.CaptureFixture[str]) -> None:
    # A100 is not H100-class for vLLM's batch defaults: 256 seqs / 2048 tokens.
    assert plan_args(
        capsys,
        "--model",
        "llama-3.1-70b",
        "--gpu",
        "A100-80GB",
        "--tp",
        "4",
        "--kv-cache-dtype",
        "fp8",
        "--max-model-len",
        "32768",
    ) == [
        "/models/meta-llama/Llama-3.1-70B-Instruct",
        "--served-model-name",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--tensor-parallel-size",
        "4",
        "--kv-cache-dtype",
        "fp8",
        "--max-model-len",
        "32768",
        "--gpu-memory-utilization",
        "0.92",
        "--max-num-seqs",
        "256",
        "--max-num-batched-tokens",
        "2048",
    ]


def test_deepseek_v3_across_two_h100_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    # 671B FP8 does not fit 8 H100s; TP 8 inside a node, PP 2 across two, over Ray.
    assert plan_args(
        capsys, "--model", "deepseek-ai/DeepSeek-V3", "--gpu", "H100", "--max-model-len", "32768"
    ) == [
        "/models/deepseek-ai/DeepSeek-V3",
        "--served-model-name",
        "deepseek-ai/DeepSeek-V3",
        "--tensor-parallel-size",
        "8",
        "--pipeline-parallel-size",
        "2",
        "--distributed-executor-backend",
        "ray",
        "--max-model-len",
        "32768",
        "--gpu-memory-utilization",
        "0.92",
        "--max-num-seqs",
        "1024",
        "--max-num-batched-tokens",
        "8192",
    ]


def test_online_fp8_on_l40s_with_older_vllm(capsys: pytest.CaptureFixture[str]) -> None:
    # vLLM 0.19: util default 0.9; fp8 applied at load time to a bf16 checkpoint.
    assert plan_args(
        capsys,
        "--model",
        "Qwen/Qwen2.5-7B-Instruct",
        "--gpu",
        "L40S",
        "--quantization",
        "fp8",
        "--vllm-version",
        "0.19.0",
    ) == [
        "/models/Qwen/Qwen2.5-7B-Instruct",
        "--served-model-name",
        "Qwen/Qwen2.5-7B-Instruct",
        "--tensor-parallel-size",
        "1",
        "--quantization",
        "fp8",
        "--max-model-len",
        "32768",
        "--gpu-memory-utilization",
        "0.9",
        "--max-num-seqs",
        "256",
        "--max-num-batched-tokens",
        "2048",
    ]


def test_booleans_and_float_formatting() -> None:
    args = VllmArgs(
        model="/m",
        gpu_memory_utilization=0.92 + 1e-12,
        enforce_eager=True,
        enable_prefix_caching=False,
        trust_remote_code=True,
    ).build_args()
    assert args == [
        "/m",
        "--tensor-parallel-size",
        "1",
        "--gpu-memory-utilization",
        "0.92",
        "--no-enable-prefix-caching",
        "--enforce-eager",
        "--trust-remote-code",
    ]
