"""The fifth H200 set (issues 24 and 27) replayed: LoRA, speculative and eager launches.

benchmarks/h200/scenarios5.json launched each server with the arguments of a
recorded baseline run plus a few flags (``added_flags``), on vLLM 0.26.0 and one
H200. The planner does not model these flags yet, so nothing here asks it
anything: the recordings are held to themselves from independent sources — the
vLLM log, the idle ``/metrics`` scrape (``vllm:cache_config_info``) and the
baseline's plan file — so a hand-edited or half-imported run fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "benchmarks" / "h200" / "runs"
SCENARIOS = ROOT / "benchmarks" / "h200" / "scenarios5.json"

_KV_TOKENS = re.compile(r"GPU KV cache size: ([\d,]+) tokens")
_KV_GIB = re.compile(r"Available KV cache memory: ([\d.]+) GiB")
_WEIGHTS_GIB = re.compile(r"Model loading took ([\d.]+) GiB")
_METRIC_TOKENS = re.compile(r'^vllm:cache_config_info\{[^}]*kv_cache_size_tokens="(\d+)"', re.M)


def _scenarios() -> list[dict]:
    return list(json.loads(SCENARIOS.read_text())["lanes"][0])


def _recorded() -> list[Path]:
    return sorted(RUNS / sc["name"] for sc in _scenarios() if (RUNS / sc["name"]).is_dir())


def _summary(run: Path) -> dict:
    return dict(json.loads((run / "summary.json").read_text()))


def _argv(run: Path) -> list[str]:
    for line in (run / "server.log").read_text().splitlines():
        if line.startswith("{") and '"argv"' in line:
            return list(json.loads(line)["argv"])
    raise AssertionError(f"{run.name}: the entrypoint logged no argv")


def _kv_tokens(run: Path) -> int:
    (hit,) = _KV_TOKENS.findall((run / "server.log").read_text())
    return int(hit.replace(",", ""))


def _came_up(run: Path) -> bool:
    return _summary(run)["phase_at_start"] == "ready"


@pytest.mark.parametrize("run", _recorded(), ids=lambda p: p.name)
def test_launch_differs_from_its_baseline_by_the_added_flags_alone(run: Path) -> None:
    summary = _summary(run)
    baseline = RUNS / summary["baseline"]
    base_args = json.loads((baseline / "plan_file.json").read_text())["vllm_args"]
    argv = _argv(run)
    # tools/vllm serve <args> --host H --port P: the entrypoint adds the last four.
    assert argv[2:-4] == [*base_args, *summary["added_flags"]]
    assert json.loads((run / "plan_file.json").read_text())["vllm_args"] == argv[2:-4]


@pytest.mark.parametrize("run", _recorded(), ids=lambda p: p.name)
def test_summary_figures_are_the_logged_ones(run: Path) -> None:
    text = (run / "server.log").read_text()
    startup = _summary(run)["startup"]
    if not _came_up(run):
        assert "kv_cache_tokens" not in startup and not _KV_TOKENS.search(text)
        return
    assert startup["kv_cache_tokens"] == _kv_tokens(run)
    assert [startup["available_kv_gib"]] == [float(x) for x in _KV_GIB.findall(text)]
    weights = [float(x) for x in _WEIGHTS_GIB.findall(text)]  # a draft model logs its own
    assert startup["model_loading_gib"] == (weights[0] if len(weights) == 1 else weights)


@pytest.mark.parametrize("run", [r for r in _recorded() if _came_up(r)], ids=lambda p: p.name)
def test_metrics_report_the_logged_kv_tokens(run: Path) -> None:
    scraped = _METRIC_TOKENS.findall((run / "cache_config_info.prom").read_text())
    assert [int(x) for x in scraped] == [_kv_tokens(run)]


@pytest.mark.parametrize(
    "run",
    [r for r in _recorded() if _came_up(r) and "--enable-lora" in _summary(r)["added_flags"]],
    ids=lambda p: p.name,
)
def test_lora_buffers_come_out_of_the_kv_cache(run: Path) -> None:
    # vLLM reserves the LoRA slots at start, with no adapter loaded; the same
    # session's baseline (identical arguments, no LoRA flags) had more KV.
    summary = _summary(run)
    same_session = [
        r
        for r in _recorded()
        if _summary(r)["baseline"] == summary["baseline"] and _summary(r)["added_flags"] == []
    ]
    assert same_session, f"{run.name}: no baseline of its own session was recorded"
    assert _kv_tokens(run) < _kv_tokens(same_session[0])


def test_the_set_was_recorded() -> None:
    # A scenario whose run went missing must fail here, not vanish from the lists.
    assert [r.name for r in _recorded()] == [sc["name"] for sc in _scenarios()][: len(_recorded())]
    assert len(_recorded()) >= 1
