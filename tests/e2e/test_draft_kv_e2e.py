"""A draft model's KV cache, as planned and as the real vLLM (CPU build) sizes it (issue 24).

The planner (planner/speculative.py) gives a draft model's attention layers their
own KV pages in every block: each cached token costs the target's bytes plus the
draft's. vLLM 0.32 does the same because the draft's layers register in the same
forward context, so ``get_kv_cache_spec`` lists them beside the target's
(vllm/v1/worker/gpu_model_runner.py; vllm/v1/core/kv_cache_utils.py turns the
spec into blocks). Served here with the tiny Llama as its own draft (2 + 2
layers, same shapes), so the cache must hold half the tokens, and vLLM's own
count (``vllm:cache_config_info``, read by the entrypoint's plan check) must be
the planner's. One server (~40 s on CPU).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import MAX_MODEL_LEN, run_planner
from .server import EntrypointServer

pytestmark = pytest.mark.e2e

#: vLLM's CPU backend block size (the one-seat diagnose test pins it too).
CPU_BLOCK = 128


def _plan(tiny_model: Path, *extra: str) -> dict[str, Any]:
    return run_planner(
        [
            "--model",
            f"{tiny_model}/config.json",
            "--gpu",
            "cpu",
            "--max-model-len",
            str(MAX_MODEL_LEN),
            "--enforce-eager",
            *extra,
        ]
    )


def test_draft_model_kv_pages_as_planned(
    tmp_path: Path, vllm_python: Path, vllm_bin: Path, tiny_model: Path
) -> None:
    base = _plan(tiny_model)
    draft = _plan(
        tiny_model,
        "--speculative-method",
        "draft_model",
        "--speculative-model",
        str(tiny_model),
        "--num-speculative-tokens",
        "2",
    )
    # Same KV budget give or take the draft's weights: half the tokens.
    assert draft["kv_bytes_per_token_per_gpu"] == 2 * base["kv_bytes_per_token_per_gpu"]
    expected = {"kv_cache_tokens": draft["kv_cache_tokens"], "block_size": CPU_BLOCK}
    srv = EntrypointServer(
        run_dir=tmp_path / "srv",
        python=vllm_python,
        vllm_bin=vllm_bin,
        vllm_args=draft["vllm_args"],
        expected=expected,
        extra_env={"LLMPOD_DRAIN_PROPAGATION_S": "0"},
    )
    (tmp_path / "srv").mkdir()
    with srv.serving():
        deadline = time.monotonic() + 60
        while (status := srv.status())["plan_check"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
    check = status["plan_check"]
    kv = next(c for c in check["checks"] if c["name"] == "kv_cache_tokens")
    print(
        f"planned {draft['kv_cache_tokens']}, vLLM {kv['running']}, base {base['kv_cache_tokens']}"
    )
    assert check["ok"] is True, check
    # vLLM counts whole blocks; the planner's figure may carry a partial one.
    assert abs(kv["running"] - draft["kv_cache_tokens"]) < CPU_BLOCK, kv
