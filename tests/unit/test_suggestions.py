"""Suggestions as data: flags for `plan`, spec keys for stacks, tuning that is re-planned."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmpod.cli.main import main
from llmpod.errors import LlmpodError
from llmpod.suggestion import Suggestion


def _plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["plan", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_suggestion_renders_as_a_flag_and_as_a_spec_key() -> None:
    s = Suggestion("max_model_len", 30256, "fits on 2 L4 (TP 2, PP 1)", "a shorter context")
    assert s.as_flag() == "a shorter context: --max-model-len 30256 fits on 2 L4 (TP 2, PP 1)"
    assert s.as_spec() == "a shorter context: max_model_len: 30256 fits on 2 L4 (TP 2, PP 1)"
    assert s.as_json() == {
        "field": "max_model_len",
        "value": 30256,
        "text": "a shorter context: fits on 2 L4 (TP 2, PP 1)",
    }
    eager = Suggestion("enforce_eager", True, "→ fits")
    assert eager.as_flag() == "--enforce-eager → fits"
    assert eager.as_spec() == "vllm.enforce_eager: true → fits"
    assert Suggestion("gpu", "H200", "→ x").as_spec() == "gpus.types: [H200] → x"
    with pytest.raises(ValueError, match="unknown suggestion field 'colour'"):
        Suggestion("colour", 1, "")


def test_plan_json_carries_structured_suggestions_that_replan(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, data = _plan_json(
        capsys, "--model", "meta-llama/Llama-3.1-70B-Instruct", "--gpu", "A100-80GB", "--tp", "2"
    )
    assert code == 2
    [err] = data["errors"]
    changes = err["suggested_changes"]
    assert changes and all(set(c) == {"field", "value", "text"} for c in changes)
    shorter = next(c for c in changes if c["field"] == "max_model_len")
    code2, data2 = _plan_json(
        capsys,
        "--model",
        "meta-llama/Llama-3.1-70B-Instruct",
        "--gpu",
        "A100-80GB",
        "--tp",
        "2",
        "--max-model-len",
        str(shorter["value"]),
    )
    assert code2 == 0 and data2["kv_cache_tokens"] >= shorter["value"]
    # The prose suggestions (the DESIGN contract) are the same data as flags.
    assert any(f"--max-model-len {shorter['value']}" in s for s in err["suggestions"])


AWQ_ON_4090 = (
    "--model",
    "Qwen/Qwen2.5-72B-Instruct-AWQ",
    "--gpu",
    "RTX-4090",
    "--max-gpus",
    "2",
    # vLLM 0.32 (the default) also takes a CUDA-graph estimate off the KV budget
    # (Model Runner V2 measures graphs from 0.29): 6,144 tokens fit only with tuning.
    "--max-model-len",
    "6144",
)


def test_eager_mode_and_utilization_are_suggested_when_they_make_it_fit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The finding: 70B-class AWQ on 2×RTX-4090 fits only with tuning, never suggested.
    code, data = _plan_json(capsys, *AWQ_ON_4090)
    assert code == 2
    changes = {c["field"]: c for c in data["errors"][0]["suggested_changes"]}
    assert changes["enforce_eager"]["value"] is True
    assert changes["gpu_memory_utilization"]["value"] == 0.95
    # Each is true: planning again with it fits.
    assert _plan_json(capsys, *AWQ_ON_4090, "--enforce-eager")[0] == 0
    assert _plan_json(capsys, *AWQ_ON_4090, "--gpu-memory-utilization", "0.95")[0] == 0


def test_tuning_is_not_suggested_when_already_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = _plan_json(
        capsys,
        *AWQ_ON_4090,
        "--max-model-len",
        "32768",
        "--enforce-eager",
        "--gpu-memory-utilization",
        "0.95",
    )
    fields = {c["field"] for c in data["errors"][0]["suggested_changes"]}
    assert code == 2 and not fields & {"enforce_eager", "gpu_memory_utilization"}


def test_stack_errors_suggest_spec_keys_not_flags() -> None:
    from llmpod.planning.service import plan_service
    from llmpod.spec.service import ServingSpec

    spec = ServingSpec.model_validate(
        {
            "name": "big",
            "model": "Qwen/Qwen2.5-72B-Instruct-AWQ",
            "max_model_len": 8192,
            "gpus": {"types": ["RTX-4090"], "max_per_replica": 2},
        }
    )
    with pytest.raises(LlmpodError) as info:
        plan_service(spec, "staging")
    text = " ".join(info.value.suggestions)
    assert "vllm.enforce_eager: true" in text and "max_model_len: " in text
    assert "--enforce-eager" not in text and "--max-model-len" not in text
    assert {c.field for c in info.value.changes} >= {"enforce_eager", "max_model_len"}
