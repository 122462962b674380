"""What the CLI tells users (issue 20, item 13): each message says what is true.

Each test states the message a user saw before and what it says now.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from llmpod.cli.main import build_parser, main
from llmpod.cli.plan_view import memory_bar, show
from llmpod.errors import LlmpodError
from llmpod.gpus.catalog import find_gpu
from llmpod.models.sources import load_model_config
from llmpod.planner.api import make_plan as plan
from llmpod.planner.plan import Plan
from llmpod.planning.flags import add_plan_arguments, request_from_args
from llmpod.spec.stack import StackSpec


def _plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["plan", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_gpu_help_says_cost_decides_before_the_order_given() -> None:
    # Before: "repeat for an ordered preference", yet the cheaper GPU wins.
    plan_parser = argparse.ArgumentParser()
    add_plan_arguments(plan_parser)  # the flags `llmpod plan` has
    [gpu] = [a for a in plan_parser._actions if "--gpu" in a.option_strings]
    assert "ordered preference" not in (gpu.help or "")
    assert "cheapest" in (gpu.help or "") and "breaks ties" in (gpu.help or "")


def test_the_cheaper_gpu_wins_whatever_the_order(capsys: pytest.CaptureFixture[str]) -> None:
    # What the help text now promises: H100 listed first, the cheaper L40S chosen.
    code, data = _plan_json(capsys, "--model", "llama-3.1-8b", "--gpu", "H100", "--gpu", "L40S")
    assert code == 0
    assert data["gpu"] == "L40S"
    assert find_gpu("L40S").price_per_gpu_hour < find_gpu("H100").price_per_gpu_hour


def test_a_node_limit_caps_the_gpus_named_in_the_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Before: "does not fit any layout up to 64 GPUs / 1 node(s) of H100".
    code, data = _plan_json(
        capsys, "--model", "deepseek-ai/DeepSeek-V3", "--gpu", "H100", "--max-nodes", "1"
    )
    assert code == 2
    message = data["errors"][0]["message"]
    assert "64 GPUs" not in message
    assert "any layout of at most 8 H100 on 1 node (closest: TP 8 × PP 1)" in message


def test_a_plan_on_one_gpu_lists_no_impossible_tensor_parallel_sizes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Before: "Not possible: TP 3: ...; TP 5: ...; TP 6: ...; TP 7: ..." on every plan.
    code, data = _plan_json(capsys, "--model", "llama-3.1-8b", "--gpu", "H100")
    assert code == 0 and data["tensor_parallel_size"] == 1
    assert not any("Not possible" in r for r in data["reasons"])


def test_a_plan_on_eight_gpus_says_why_not_fewer(capsys: pytest.CaptureFixture[str]) -> None:
    # TP 8 was chosen for a 64-head model: TP 3, 5, 6 and 7 being refused explains the
    # jump from 4, so the reason keeps them, and only sizes below 8.
    code, data = _plan_json(capsys, "--model", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "L40S")
    assert code == 0 and data["gpus_per_replica"] == 8
    [layout] = [r for r in data["reasons"] if r.startswith("Layout")]
    assert "Not possible: TP 3:" in layout and "TP 7:" in layout


def test_larger_gpus_suggested_stay_with_the_vendor_asked_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Before: "Try: larger GPUs: --gpu MI300X" to a user who asked for H100.
    code, data = _plan_json(
        capsys, "--model", "deepseek-ai/DeepSeek-V3", "--gpu", "H100", "--max-nodes", "1"
    )
    assert code == 2
    gpus = [c["value"] for c in data["errors"][0]["suggested_changes"] if c["field"] == "gpu"]
    assert gpus, data["errors"][0]
    assert all(find_gpu(g).vendor == "nvidia" for g in gpus)


@pytest.mark.parametrize("columns", [15, 40, 60, 61, 80])
@pytest.mark.parametrize(
    "argv",
    [
        ("deepseek-ai/DeepSeek-V3", "H100", 1),  # infeasible: the parts exceed the GPU
        ("llama-3.1-8b", "H100", 2),
    ],
)
def test_the_memory_bar_never_overflows_the_terminal(
    monkeypatch: pytest.MonkeyPatch, columns: int, argv: tuple[str, str, int]
) -> None:
    # Before: 65 characters on an 80-column terminal (the infeasible plan's parts add
    # up to more than the GPU) and 20 on a 15-column one.
    monkeypatch.setenv("COLUMNS", str(columns))
    model, gpu, nodes = argv
    out = io.StringIO()
    show(_plan(model, gpu, nodes), out)
    bars = [line for line in out.getvalue().splitlines() if line.startswith("█")]
    assert bars and all(len(line) <= min(60, columns) for line in bars)


def _plan(model: str, gpu: str, nodes: int) -> Plan:
    ns = build_parser().parse_args(
        ["plan", "--model", model, "--gpu", gpu, "--max-nodes", str(nodes)]
    )
    return plan(request_from_args(ns))


def test_memory_bar_characters_add_up_to_the_width() -> None:
    # A full GPU whose parts each round up at width 60 (12.54 → 13 four times, 9.84 →
    # 10): rounded one by one they made 62 characters of 60.
    per_gpu = {
        "total_gib": 10.0,
        "weights_gib": 2.09,
        "activation_gib": 2.09,
        "non_torch_gib": 2.09,
        "cuda_graph_gib": 2.09,
        "kv_cache_gib": 1.64,
    }
    for width in (1, 7, 20, 60):
        assert sum(chars for _, _, chars in memory_bar(per_gpu, width)) == width


def test_init_in_the_current_directory_prints_no_cd_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "."]) == 0
    out = capsys.readouterr().out
    assert "cd ." not in out
    assert "\n  llmpod render dev" in out


def test_init_elsewhere_prints_a_cd_that_survives_a_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "my llm"]) == 0
    assert "cd 'my llm' && llmpod render dev" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"llmpod:costCapPerHour": -5}, "llmpod:costCapPerHour: Input should be greater than 0"),
        ({"llmpod:skipAwait": "often"}, "llmpod:skipAwait: "),
        ({"llmpod:renderDir": 7}, "llmpod:renderDir: "),
        ({"llmpod:services": [{"name": "x"}]}, "llmpod:services[0].model: required"),
    ],
)
def test_spec_errors_name_keys_as_stack_files_write_them(
    config: dict[str, Any], named: str
) -> None:
    # Before: "cost_cap_per_hour: Input should be greater than 0 (got -5)".
    base: dict[str, Any] = {
        "llmpod:environment": "dev",
        "llmpod:services": [{"name": "x", "model": "llama-3.1-8b"}],
    }
    with pytest.raises(LlmpodError) as info:
        StackSpec.from_config({**base, **config}, where="s.yaml")
    assert named in info.value.message
    for snake in ("cost_cap_per_hour", "skip_await", "render_dir"):
        assert snake not in info.value.message


def test_unknown_stack_key_suggests_the_key_as_written() -> None:
    with pytest.raises(LlmpodError, match=r"Did you mean 'llmpod:renderDir'\?"):
        StackSpec.from_config({"llmpod:renderDri": "x"}, where="s.yaml")


def test_hf_with_no_name_resolution_fails_at_once_without_retrying(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: five "Retrying in Ns" warnings over ~24 s, then the same error. The
    # .invalid top-level domain never resolves (RFC 6761), as when offline.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.llmpod-offline.invalid")
    caplog.set_level(logging.WARNING)
    with pytest.raises(LlmpodError) as info:
        load_model_config("hf://acme/tiny@main", cache_dir=tmp_path)
    assert info.value.code == "model_config_unreachable"
    assert "'hub.llmpod-offline.invalid' does not resolve" in info.value.message
    assert not [r for r in caplog.records if "Retry" in r.getMessage()]
