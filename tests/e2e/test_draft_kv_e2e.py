"""A proposer's KV cache, as planned and as the real vLLM (CPU build) sizes it (issue 24).

The planner (planner/speculative.py) gives the attention layers of a draft model
or an EAGLE head their own KV pages in every block: each cached token costs the
target's bytes plus the proposer's. vLLM 0.32 does the same because the
proposer's layers register in the same forward context, so ``get_kv_cache_spec``
lists them beside the target's (vllm/v1/worker/gpu_model_runner.py;
vllm/v1/core/kv_cache_utils.py turns the spec into blocks). Served here for the
tiny Llama (2 layers) with itself as the draft (2 more layers: half the tokens)
and with a generated one-layer EAGLE head (make_tiny_eagle.py: two thirds);
vLLM's own count (``vllm:cache_config_info``, read by the entrypoint's plan
check) must be the planner's. One server per proposer (~30 s each on CPU).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .conftest import make_tiny_checkpoint, plan_tiny
from .server import EntrypointServer

pytestmark = pytest.mark.e2e

MAKE_TINY_EAGLE = Path(__file__).with_name("make_tiny_eagle.py")
#: vLLM's CPU backend block size (the one-seat diagnose test pins it too).
CPU_BLOCK = 128


def _eagle_head(vllm_python: Path, tiny_model: Path, out: Path) -> Path:
    make_tiny_checkpoint(vllm_python, MAKE_TINY_EAGLE, str(tiny_model), str(out))
    return out


@pytest.mark.parametrize(("method", "share_of_tokens"), [("draft_model", 1 / 2), ("eagle", 2 / 3)])
def test_proposer_kv_pages_as_planned(
    method: str,
    share_of_tokens: float,
    tmp_path: Path,
    vllm_python: Path,
    vllm_bin: Path,
    tiny_model: Path,
) -> None:
    proposer = (
        tiny_model
        if method == "draft_model"
        else _eagle_head(vllm_python, tiny_model, tmp_path / "eagle")
    )
    base = plan_tiny(tiny_model)
    plan = plan_tiny(
        tiny_model,
        "--speculative-method",
        method,
        "--speculative-model",
        str(proposer),
        "--num-speculative-tokens",
        "2",
    )
    assert plan["kv_bytes_per_token_per_gpu"] == pytest.approx(
        base["kv_bytes_per_token_per_gpu"] / share_of_tokens
    )
    expected = {"kv_cache_tokens": plan["kv_cache_tokens"], "block_size": CPU_BLOCK}
    (tmp_path / "srv").mkdir()
    srv = EntrypointServer(
        run_dir=tmp_path / "srv",
        python=vllm_python,
        vllm_bin=vllm_bin,
        vllm_args=plan["vllm_args"],
        expected=expected,
        extra_env={"LLMPOD_DRAIN_PROPAGATION_S": "0"},
    )
    with srv.serving():
        deadline = time.monotonic() + 60
        while (status := srv.status())["plan_check"] is None and time.monotonic() < deadline:
            time.sleep(0.2)
    check = status["plan_check"]
    kv = next(c for c in check["checks"] if c["name"] == "kv_cache_tokens")
    print(f"{method}: planned {plan['kv_cache_tokens']}, vLLM {kv['running']}, "
          f"without a proposer {base['kv_cache_tokens']}")  # fmt: skip
    assert check["ok"] is True, check
    # vLLM counts whole blocks; the planner's figure may carry a partial one.
    assert abs(kv["running"] - plan["kv_cache_tokens"]) < CPU_BLOCK, kv
