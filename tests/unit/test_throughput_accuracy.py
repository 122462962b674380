"""Throughput estimates against what vLLM 0.26.0 measured on an H200.

The measured figures (benchmarks/throughput_h200.csv) come from GPU runs, not from
this code; the kernel efficiencies were fit on some rows and the rest are held out.
The issue's bar: within 15% at every concurrency for every kernel class.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks/throughput_accuracy.py"), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode in (0, 1), out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


def test_every_measured_run_is_within_15_percent(report: dict[str, Any]) -> None:
    misses = [
        f"{r['run']} @{r['concurrency']}: {r['error']:+.1%}"
        for r in report["rows"]
        if abs(r["error"]) > 0.15
    ]
    assert misses == []


def test_every_kernel_class_and_concurrency_is_covered_and_most_rows_are_held_out(
    report: dict[str, Any],
) -> None:
    rows = report["rows"]
    for cls in ("dense", "fp8", "int4", "moe"):
        assert {r["concurrency"] for r in rows if r["class"] == cls} == {1, 8, 32, 128}
        assert any(r["set"] == "held-out" for r in rows if r["class"] == cls)
    assert report["summary"]["held_out_rows"] >= len(rows) / 2


def test_the_estimates_that_missed_before_are_fixed(report: dict[str, Any]) -> None:
    # Issue 13: int4 Llama-3.1-8B at 1 request was over by about 2/3, Qwen3-30B-A3B
    # at 1 by 1/2 — the roofline read int4 and active-expert bytes at HBM speed.
    def error(run: str, conc: int) -> float:
        return float(
            next(r["error"] for r in report["rows"] if r["run"] == run and r["concurrency"] == conc)
        )

    assert abs(error("llama8b-awq-int4", 1)) < 0.10
    assert abs(error("qwen3-30b-a3b", 1)) < 0.10
