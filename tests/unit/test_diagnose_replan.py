"""diagnose re-plans the service for the traffic its window shows (issue 19, item 5).

Recordings: tests/fixtures/h200 (vLLM 0.26.0, Llama-3.1-8B on one H200,
max_num_seqs 1024, the planner's own arguments).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmpod.cli.main import main

H200 = Path(__file__).resolve().parents[1] / "fixtures" / "h200"
NOW = ["--model", "llama-3.1-8b", "--gpu", "H200", "--vllm-version", "0.26.0"]


def diagnose(capsys: pytest.CaptureFixture[str], load: str, *extra: str) -> dict[str, Any]:
    recording = str(H200 / load / "recording.jsonl.gz")
    main(["diagnose", "--from-file", recording, *NOW, "--max-num-seqs", "1024", *extra, "--json"])
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_the_replan_carries_the_observed_load_at_the_target(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 256 users saturating one H200 (their TTFT p50 1.7 s): a 500 ms target needs
    # more than the one replica that runs now; no target keeps the one replica.
    relaxed = diagnose(capsys, "closed_c256_saturation")["replan"]
    strict = diagnose(capsys, "closed_c256_saturation", "--ttft-target", "500ms")["replan"]
    assert relaxed["workload"].endswith("512 tokens in / 256 out")
    assert relaxed["feasible"] and relaxed["replicas"] == 1
    assert strict["feasible"] and strict["replicas"] > 1
    assert strict["estimates"]["ttft_ms"]["p95"] <= 500
    assert strict["cost_change_per_hour"] > 0


def test_no_replan_without_finished_requests(capsys: pytest.CaptureFixture[str]) -> None:
    replan = diagnose(capsys, "idle")["replan"]
    assert replan["plan"] is None and "no request finished" in replan["why_not"]
