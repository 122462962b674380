"""`llmpod verify` on what vLLM 0.26 reported on an H200: a correct server passes, each
injected misconfiguration fails naming what differs (deterministic, from recordings).

tests/fixtures/h200/verify/<case>/ holds the server's /metrics, /v1/models and
entrypoint /status, and plan.json: the plan verify holds it to. The TP and model
cases pair the correct 8B server with another plan (TP 2; Qwen3-8B).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmpod.cli.main import main

VERIFY = Path(__file__).resolve().parents[1] / "fixtures" / "h200" / "verify"

#: Recordings whose running KV cache is more than 3% off the plan (+3.27%, measured
#: with the planner of this commit); every other correct-* recording is within 3%.
KV_MISSES_OVER_3_PERCENT = {"correct-qwen25-32b-bf16"}

#: What each injection must change, reasoned from the flag it changed.
MISCONFIGURED = {
    # 0.80 instead of 0.92: the setting, and 12% less memory for the KV cache.
    "misconfig-gpu-memory-utilization": {"gpu_memory_utilization", "kv_cache_tokens"},
    # 32,768 instead of 131,072: only the context; the cache is sized by memory.
    "misconfig-max-model-len": {"max_model_len"},
    # fp8 instead of auto (bf16): the dtype, and twice the tokens in the same bytes.
    "misconfig-kv-cache-dtype": {"cache_dtype", "kv_cache_tokens"},
    # A TP 2 plan holds about twice the KV tokens per GPU (weights split in two).
    "misconfig-tensor-parallel": {"kv_cache_tokens"},
    # Qwen3-8B's plan: another served name, another context, another KV geometry.
    "misconfig-model": {"served_model_name", "max_model_len", "kv_cache_tokens"},
}


def verify(case: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["verify", "--plan", str(case / "plan.json"), "--from-file", str(case), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def _kv_off(body: dict[str, Any]) -> float:
    kv = next(c for c in body["checks"] if c["name"] == "kv_cache_tokens")
    return float(kv["running"]) / float(kv["planned"]) - 1


@pytest.mark.parametrize("case", sorted(p.name for p in VERIFY.glob("correct-*")))
def test_a_server_launched_as_planned_matches_its_plan(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, body = verify(VERIFY / case, capsys)
    off = _kv_off(body)
    if case in KV_MISSES_OVER_3_PERCENT:
        # The planner's KV figure missed by more than 3% here: verify must say so, and
        # nothing else. (Pinned per recording, so a planner change that moves a case
        # across the line fails here instead of silently switching branches.)
        assert abs(off) > 0.03 and (code, body["differs"]) == (3, ["kv_cache_tokens"]), body
    else:
        assert abs(off) <= 0.03 and (code, body["differs"]) == (0, []), body
    names = {c["name"] for c in body["checks"] if c["ok"] is True}
    assert {"gpu_memory_utilization", "cache_dtype", "block_size", "max_model_len",
            "served_model_name"} <= names  # fmt: skip


def test_there_are_correct_runs_to_check() -> None:
    assert len(list(VERIFY.glob("correct-*"))) >= 1


@pytest.mark.parametrize("case", sorted(MISCONFIGURED))
def test_each_misconfiguration_is_named(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, body = verify(VERIFY / case, capsys)
    assert code == 3
    assert set(body["differs"]) == MISCONFIGURED[case], body["differs"]


def test_the_8b_planner_figure_holds_within_3_percent(capsys: pytest.CaptureFixture[str]) -> None:
    # vLLM 0.26 reported 919,824 KV tokens against the planner's 906,256: +1.5%.
    _, body = verify(VERIFY / "correct-llama8b-bf16", capsys)
    assert 0 < _kv_off(body) <= 0.03
