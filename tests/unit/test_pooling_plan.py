"""Embedding and reranking models are planned as vLLM serves them (issue 20, item 6).

Facts from vLLM 0.32 (not from llmpod): XLMRobertaModel is in the registry's
_EMBEDDING_MODELS and XLMRobertaForSequenceClassification in
_SEQUENCE_CLASSIFICATION_MODELS, both served by ``--runner pooling``; their
EncoderOnlyAttention has no KV-cache spec, so the engine allocates no KV cache.
BAAI/bge-m3's fp32 pytorch_model.bin is 2.27 GB (≈ 568 M parameters).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmpod.cli.main import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "configs"
BGE_M3 = FIXTURES / "bge-m3" / "config.json"


def _plan(model: str, capsys: Any, *extra: str) -> dict[str, Any]:
    assert main(["plan", "--model", model, "--gpu", "L4", "--json", *extra]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_an_embedding_model_has_no_kv_cache_and_is_priced_per_input_token(capsys: Any) -> None:
    plan = _plan(str(BGE_M3), capsys)
    assert plan["feasible"] is True
    assert plan["task"] == "embed"
    assert plan["kv_cache_tokens"] == 0 and plan["kv_bytes_per_token_per_gpu"] == 0
    assert plan["per_gpu"]["kv_cache_gib"] == 0.0
    args = plan["vllm_args"]
    assert args[args.index("--runner") + 1] == "pooling"
    # XLM-R numbers positions from pad_token_id + 1: 8194 embeddings hold 8192 tokens.
    assert plan["max_model_len"] == 8192
    assert plan["cost"]["per_million_output_tokens"] is None
    assert plan["cost"]["per_million_input_tokens"] > 0
    # 568 M parameters in bfloat16 (no LM head): 1.06 GiB; the fp32 file 2.27 GB.
    assert abs(plan["per_gpu"]["weights_gib"] / (568e6 * 2 / 2**30) - 1) < 0.03
    assert abs(plan["checkpoint_gib"] / (2.27e9 / 2**30) - 1) < 0.03


def test_a_reranker_is_planned_as_a_classify_pooling_model(tmp_path: Path, capsys: Any) -> None:
    config = json.loads(BGE_M3.read_text())
    config["architectures"] = ["XLMRobertaForSequenceClassification"]
    config["max_position_embeddings"] = 514
    (tmp_path / "config.json").write_text(json.dumps(config))
    plan = _plan(str(tmp_path / "config.json"), capsys)
    assert plan["task"] == "classify"
    assert plan["max_model_len"] == 512
    assert "--runner" in plan["vllm_args"]


def test_a_chat_model_plan_has_no_task_and_no_runner(capsys: Any) -> None:
    plan = _plan("llama-3.1-8b", capsys, "--max-model-len", "8192")
    assert "task" not in plan and "--runner" not in plan["vllm_args"]
    assert plan["cost"]["per_million_output_tokens"] is not None
    assert "per_million_input_tokens" not in plan["cost"]


def _service_plan(model: str) -> Any:
    from llmpod.planning.service import plan_service
    from llmpod.spec.service import ServingSpec

    spec = ServingSpec.model_validate(
        {"name": "embed", "model": model, "max_model_len": 8192, "gpus": {"types": ["L4"]}}
    )
    return plan_service(spec, "staging")


def test_the_plan_file_warms_a_pooling_model_up_on_its_own_route() -> None:
    from llmpod.backends.runtime import plan_file_payload, plan_file_text
    from llmpod.image.runtime.plan_file import WARMUP_APIS, parse_plan

    payload = plan_file_payload(_service_plan(str(BGE_M3)))
    plan = parse_plan(plan_file_text(payload))
    assert WARMUP_APIS[plan.warmup.api] == "/v1/embeddings"
    # No KV cache to compare once running: the plan file does not claim one.
    assert plan.expected.kv_cache_tokens is None


def test_a_chat_plan_file_keeps_completions_and_its_kv_figure() -> None:
    from llmpod.backends.runtime import plan_file_payload, plan_file_text
    from llmpod.image.runtime.plan_file import parse_plan

    plan = parse_plan(plan_file_text(plan_file_payload(_service_plan("Qwen/Qwen2.5-7B-Instruct"))))
    assert plan.warmup.api == "completions"
    assert plan.expected.kv_cache_tokens and plan.expected.kv_cache_tokens > 0


def test_warmup_request_bodies_per_api() -> None:
    from llmpod.image.runtime.warmup_plan import request_for

    assert request_for("embeddings", "m", "a b c d", 16) == {"model": "m", "input": "a b c d"}
    score = request_for("score", "m", "a b c d", 16)
    assert (score["queries"], score["documents"]) == ("a b", "c d")
    assert request_for("completions", "m", "a b", 16)["max_tokens"] == 16


def test_an_unknown_warmup_api_is_refused() -> None:
    from llmpod.image.runtime.plan_file import PlanFileError, parse_plan

    with pytest.raises(PlanFileError, match=r"warmup\.api"):
        parse_plan(json.dumps({"vllm_args": ["/m"], "warmup": {"api": "chat"}}))


def test_a_traffic_workload_is_refused_for_a_pooling_model(capsys: Any) -> None:
    code = main(
        ["plan", "--model", str(BGE_M3), "--gpu", "L4", "--input-len", "512",
         "--output-len", "1", "--concurrency", "8"]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "pooling runner" in err and "--input-len" in err


@pytest.mark.parametrize(("version", "flag"), [("0.10.0", "--task"), ("0.10.1", "--runner")])
def test_the_pooling_flag_is_one_the_release_has(version: str, flag: str, capsys: Any) -> None:
    """--runner arrived in 0.10.1; 0.10.0 names a pooling model with --task (its
    choices, read from the release's wheel, include embed and score)."""
    from llmpod.releases.facts import facts_for

    args = _plan(str(BGE_M3), capsys, "--vllm-version", version)["vllm_args"]
    assert flag in args and ({"--task", "--runner"} - {flag}).isdisjoint(args)
    found = facts_for(version).flag_for(flag)
    assert found is not None
    choices = found[1].get("choices")
    assert choices is None or args[args.index(flag) + 1] in choices
