"""The recorded H200 runs hold together: summary.json, the vLLM log and /metrics agree.

Each run in benchmarks/h200/runs (vLLM 0.26.0, one H200) keeps three records of
its KV sizing: ``summary.json`` (parsed on the device by tools/driver.py), the
vLLM log itself (``server.log``), and, for the runs with a verify case, the idle
``/metrics`` scrape (``vllm:cache_config_info``). Planner work fits constants to
summary.json; here each figure is read again from the log with this file's own
patterns and from /metrics, so a hand-edited or half-imported run fails here.
Nothing here asks the planner anything.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "benchmarks" / "h200" / "runs"
VERIFY = ROOT / "tests" / "fixtures" / "h200" / "verify"
#: Verify case → the run whose idle scrape it holds (benchmarks/h200/README.md,
#: "Verify cases"; the other two cases reuse correct-llama8b-bf16's scrape).
SCRAPE_OF = {
    "correct-llama32-3b-bf16": "llama32-3b-bf16",
    "correct-llama8b-awq-int4": "llama8b-awq-int4",
    "correct-llama8b-bf16": "llama8b-bf16",
    "correct-llama8b-fp8-weights": "llama8b-fp8w",
    "correct-mixtral-8x7b": "mixtral-8x7b",
    "correct-qwen25-32b-bf16": "qwen25-32b-bf16",
    "correct-qwen25-7b-awq-int4": "qwen25-7b-awq",
    "correct-qwen3-30b-a3b": "qwen3-30b-a3b",
    "correct-qwen3-8b-bf16": "qwen3-8b-bf16",
    "misconfig-gpu-memory-utilization": "llama8b-util080",
    "misconfig-kv-cache-dtype": "llama8b-kvfp8",
    "misconfig-max-model-len": "llama8b-mml32k",
}
_KV_TOKENS = re.compile(r"GPU KV cache size: ([\d,]+) tokens")
_KV_GIB = re.compile(r"Available KV cache memory: ([\d.]+) GiB")
_WEIGHTS_GIB = re.compile(r"Model loading took ([\d.]+) GiB")
_METRIC_TOKENS = re.compile(r'^vllm:cache_config_info\{[^}]*kv_cache_size_tokens="(\d+)"', re.M)


def _runs() -> list[Path]:
    return sorted(p for p in RUNS.iterdir() if (p / "summary.json").is_file())


def _logged(run: Path, pattern: re.Pattern[str]) -> list[float]:
    text = (run / "server.log").read_text()
    return [float(x.replace(",", "")) for x in pattern.findall(text)]


@pytest.mark.parametrize("run", _runs(), ids=lambda p: p.name)
def test_summary_kv_figures_are_the_logged_ones(run: Path) -> None:
    startup = json.loads((run / "summary.json").read_text())["startup"]
    # One engine, one KV sizing: each line appears once in a run that came up.
    assert [startup["kv_cache_tokens"]] == _logged(run, _KV_TOKENS)
    assert [startup["available_kv_gib"]] == _logged(run, _KV_GIB)
    assert [startup["model_loading_gib"]] == _logged(run, _WEIGHTS_GIB)


@pytest.mark.parametrize("case", sorted(SCRAPE_OF), ids=str)
def test_metrics_report_the_logged_kv_tokens(case: str) -> None:
    scraped = _METRIC_TOKENS.findall((VERIFY / case / "metrics.prom").read_text())
    assert [float(x) for x in scraped] == _logged(RUNS / SCRAPE_OF[case], _KV_TOKENS)


def test_every_scrape_is_mapped() -> None:
    # A verify case added with its own scrape must be named above, not skipped.
    own_scrapes = {p.parent.name for p in VERIFY.glob("*/metrics.prom")}
    assert own_scrapes - {"misconfig-model", "misconfig-tensor-parallel"} == set(SCRAPE_OF)
