"""estimates.startup_s: weights read at the volume's bandwidth, engine init cold and warm."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from llmpod.planner.startup import capture_sizes


def _plan(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "llmpod.cli.main", "plan", "--json", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    doc: dict[str, Any] = json.loads(out.stdout)
    return doc


@pytest.mark.parametrize(
    ("max_num_seqs", "sizes"),
    [
        # vLLM: 1, 2, 4, 8…248 step 8 (31 sizes), 256…512 step 16 (17) when the cap is 512.
        (1024, 51),
        (256, 51),
        # cap = 2 × 8 = 16: 1, 2, 4, 8, 16.
        (8, 5),
        # cap = 2: 1, 2.
        (1, 2),
    ],
)
def test_capture_sizes_follow_vllm(max_num_seqs: int, sizes: int) -> None:
    assert capture_sizes(max_num_seqs) == sizes


def test_startup_estimate_shape_and_weights_read_at_the_volume_bandwidth() -> None:
    slow = _plan("--model", "llama-3.1-8b", "--gpu", "H200", "--vllm-version", "0.26.0")
    fast = _plan(
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "H200",
        "--vllm-version",
        "0.26.0",
        "--load-bandwidth-mb-s",
        "800",
    )
    s, f = slow["estimates"]["startup_s"], fast["estimates"]["startup_s"]
    assert set(s["engine_init"]) == {"cold", "warm_cache"}
    # The whole checkpoint (weights_gib_total) crosses the volume once.
    assert s["weights_read"] == pytest.approx(slow["weights_gib_total"] * 1024 / 400, abs=0.1)
    assert f["weights_read"] == pytest.approx(s["weights_read"] / 2, abs=0.1)
    assert f["engine_init"] == s["engine_init"]
    assert s["engine_init"]["warm_cache"] < s["engine_init"]["cold"]
    assert s["total"] == pytest.approx(
        s["process_start"] + s["weights_read"] + s["engine_init"]["cold"], abs=0.2
    )
    assert s["total_warm_cache"] == pytest.approx(
        s["process_start"] + s["weights_read"] + s["engine_init"]["warm_cache"], abs=0.2
    )
    assert "estimate" in s["method"]


def test_eager_mode_neither_compiles_nor_captures() -> None:
    graphs = _plan("--model", "llama-3.1-8b", "--gpu", "H100")["estimates"]["startup_s"]
    eager = _plan("--model", "llama-3.1-8b", "--gpu", "H100", "--enforce-eager")["estimates"][
        "startup_s"
    ]
    assert eager["engine_init"]["cold"] == eager["engine_init"]["warm_cache"]
    assert eager["engine_init"]["cold"] < graphs["engine_init"]["warm_cache"]


def test_pipeline_stages_compile_in_parallel_so_init_shrinks_with_pp() -> None:
    pp1 = _plan("--model", "llama-3.1-70b", "--gpu", "H100", "--tp", "4")
    pp2 = _plan("--model", "llama-3.1-70b", "--gpu", "H100", "--tp", "2", "--pp", "2")
    a, b = pp1["estimates"]["startup_s"], pp2["estimates"]["startup_s"]
    assert b["engine_init"]["cold"] < a["engine_init"]["cold"]
    assert b["weights_read"] == a["weights_read"]  # same checkpoint, same volume


def test_human_output_shows_the_startup_estimate() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "llmpod.cli.main",
            "plan",
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "H100",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Startup (est.)" in out.stdout and "with the compile cache" in out.stdout
