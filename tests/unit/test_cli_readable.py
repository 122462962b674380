"""The CLI reads well at 80 columns: whole names, wrapped reasons, one serve line."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _llmpod(*argv: str, columns: int = 80) -> str:
    env = {
        "COLUMNS": str(columns),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "TERM": "dumb",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "llmpod.cli.main", *argv],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _json(*argv: str) -> object:
    return json.loads(_llmpod(*argv, "--json"))


@pytest.mark.parametrize(("what", "key"), [("gpus", "gpu"), ("models", "model")])
def test_catalog_names_are_whole_at_80_columns(what: str, key: str) -> None:
    # The finding: names truncated with "…" at 80 (gpus) and 60 (models) columns.
    out = _llmpod("catalog", what)
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    lines = out.splitlines()
    rows = _json("catalog", what)
    assert isinstance(rows, list)
    for row in rows:
        name = row[key]
        assert any(name in line for line in lines), name  # on one line, never folded
        for alias in row.get("aliases", []):
            assert alias in out


def _plan_out(columns: int) -> str:
    return _llmpod(
        "plan",
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "H100",
        "--max-model-len",
        "16384",
        columns=columns,
    )


def test_plan_prints_one_copyable_serve_line_at_any_width() -> None:
    expected = _json(
        "plan",
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "H100",
        "--max-model-len",
        "16384",
    )
    assert isinstance(expected, dict)
    for columns in (60, 80):
        out = _plan_out(columns)
        [line] = [ln for ln in out.splitlines() if ln.startswith("vllm serve ")]
        # The finding: the model path in the args was cut at 60 columns.
        assert shlex.split(line) == ["vllm", "serve", *expected["vllm_args"]]


def test_plan_reasons_wrap_to_the_terminal() -> None:
    out = _plan_out(60)
    lines = [ln for ln in out.splitlines() if not ln.startswith("vllm serve ")]
    assert max(len(ln) for ln in lines) <= 60
    assert any(ln.startswith("• ") for ln in lines)


def test_checkpoint_and_per_gpu_weights_are_shown_apart() -> None:
    out = _plan_out(100)
    data = _json(
        "plan",
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "H100",
        "--max-model-len",
        "16384",
    )
    assert isinstance(data, dict)
    assert data["checkpoint_gib"] > data["per_gpu"]["weights_gib"] * 2  # TP 4 shards it
    assert f"{data['checkpoint_gib']:.2f} GiB on disk" in out
    assert f"{data['per_gpu']['weights_gib']:.2f} GiB in each GPU's memory" in out


def test_serve_line_quotes_what_the_shell_would_split() -> None:
    from llmpod.cli.plan_view import serve_command
    from llmpod.planner.plan import Plan

    plan = Plan(
        model="m",
        feasible=False,
        evaluation=None,
        replicas=1,
        vllm_args=("/models/my model", "--served-model-name", "a'b"),
        estimates=None,
        reasons=(),
    )
    line = serve_command(plan)
    assert shlex.split(line) == ["vllm", "serve", "/models/my model", "--served-model-name", "a'b"]
