"""The planner's KV-cache tokens against what vLLM 0.26.0 logged on a real H200.

Each run in benchmarks/h200/runs was launched with the planner's arguments
(plus ``--load-format dummy``, which changes no memory figure) or with one flag
changed on purpose. Here every run is planned again from the argv it was
launched with, and the planned ``kv_cache_tokens`` is held to the
``GPU KV cache size: N tokens`` line vLLM logged. The expected numbers come from
the logs, never from the planner.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

from llmpod.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "benchmarks" / "h200" / "runs"


def _benchmark() -> Any:
    """benchmarks/planner_accuracy.py, which replays these runs too: one list of the
    local configs and of the launch flags the plan CLI takes, not two."""
    spec = importlib.util.spec_from_file_location(
        "planner_accuracy_for_h200", ROOT / "benchmarks" / "planner_accuracy.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ACC = _benchmark()
#: Models the catalog lacks: the config.json the run's /models/<name> held.
LOCAL_CONFIGS: dict[str, Path] = _ACC.H200_LOCAL_CONFIGS
#: Flags of the launch argv that the plan CLI takes as they are.
PLAN_FLAGS: tuple[str, ...] = _ACC.H200_PLAN_FLAGS
_KV_LINE: re.Pattern[str] = _ACC._KV_LINE
#: Launch flags that change memory but that this replay does not translate yet (LoRA and
#: speculative decoding: issue 24; eager runs: issue 27). Runs launched with one are
#: recordings for that future work (tests/unit/test_h200_recorded_kv_figures.py replays
#: them); planning them without the flag would hold the planner to a launch it never saw.
UNMODELLED_FLAGS = ("--enable-lora", "--speculative-config", "--enforce-eager")


def _runs() -> list[Path]:
    return sorted(
        p
        for p in RUNS.iterdir()
        if (p / "startup_lines.log").is_file()
        and not any(flag in _argv(p) for flag in UNMODELLED_FLAGS)
    )


def _argv(run: Path) -> list[str]:
    """The vLLM argv the entrypoint logged (its "load" event); [] when none."""
    for line in (run / "startup_lines.log").read_text().splitlines():
        if line.startswith("{") and '"argv"' in line:
            return list(json.loads(line)["argv"])
    return []


def _launch(run: Path) -> tuple[list[str], int]:
    argv = _argv(run)
    logged = None
    for line in (run / "startup_lines.log").read_text().splitlines():
        if m := _KV_LINE.search(line):
            logged = int(m.group(1).replace(",", ""))
    assert argv and logged, f"{run.name}: no launch argv or no KV line in its log"
    return argv, logged


def _plan_args(argv: list[str]) -> list[str]:
    model = argv[argv.index("serve") + 1].removeprefix("/models/")
    args = [
        "plan",
        "--model",
        str(LOCAL_CONFIGS.get(model, model)),
        "--gpu",
        "H200",
        "--vllm-version",
        "0.26.0",
        "--json",
    ]
    for flag in PLAN_FLAGS:
        if flag in argv:
            value = argv[argv.index(flag) + 1]
            args += ["--tp" if flag == "--tensor-parallel-size" else flag, value]
    return args


@pytest.mark.parametrize("run", _runs(), ids=lambda p: p.name)
def test_planned_kv_tokens_match_vllm_026_on_h200(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, logged = _launch(run)
    assert main(_plan_args(argv)) == 0
    planned = json.loads(capsys.readouterr().out)["kv_cache_tokens"]
    error = (planned - logged) / logged
    assert abs(error) <= 0.03, (
        f"{run.name}: planned {planned:,} vs logged {logged:,} ({error:+.2%})"
    )


def test_every_run_is_covered() -> None:
    # A run directory whose log lost its KV line must fail loudly, not vanish.
    assert len(_runs()) >= 12
