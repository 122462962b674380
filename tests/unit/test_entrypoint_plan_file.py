"""The plan file the entrypoint reads: what it accepts and how it refuses bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmpod.image.runtime.plan_file import (
    Plan,
    PlanFileError,
    WarmupConfig,
    load_plan,
    parse_plan,
    render_plan_document,
)

ARGS = ["--model", "/models/llama", "--tensor-parallel-size", "2", "--max-model-len", "8192"]


def test_minimal_plan_gets_default_warmup() -> None:
    plan = parse_plan(json.dumps({"vllm_args": ARGS}))
    assert plan == Plan(vllm_args=tuple(ARGS), warmup=WarmupConfig())
    assert plan.warmup.enabled is True


def test_args_are_kept_verbatim_and_in_order() -> None:
    odd = ["--served-model-name", "a b", "--max-model-len=4096", "--model", "m"]
    assert parse_plan(json.dumps({"vllm_args": odd})).vllm_args == tuple(odd)


def test_full_warmup_object() -> None:
    text = json.dumps(
        {
            "vllm_args": ARGS,
            "warmup": {
                "enabled": True,
                "prompt_tokens": [1024, 128, 128],
                "near_max_context": False,
                "concurrency": 16,
                "batch_prompt_tokens": 256,
                "max_tokens": 8,
                "request_timeout_s": 30,
                "attempts": 2,
            },
        }
    )
    warmup = parse_plan(text).warmup
    assert warmup.prompt_tokens == (128, 1024)  # deduplicated, sorted
    assert (warmup.concurrency, warmup.batch_prompt_tokens, warmup.max_tokens) == (16, 256, 8)
    assert warmup.request_timeout_s == 30.0 and warmup.attempts == 2
    assert warmup.near_max_context is False


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ("not json", r"is not valid JSON \(Expecting value at line 1 column 1\)"),
        ("[]", r"must hold a JSON object with 'vllm_args', got list"),
        ("{}", r"has no 'vllm_args'\. Add the list of arguments"),
        ('{"vllm_args": "--model m"}', r"'vllm_args' must be a list of strings, got '--model m'"),
        ('{"vllm_args": ["--model", 3]}', r"'vllm_args' must be a list of strings"),
        ('{"vllm_args": []}', r"'vllm_args' is empty; vLLM needs at least the model"),
        (
            '{"vllm_args": ["--model", "m", "--port", "9000"]}',
            r"contains '--port'.*Remove it and set LLMPOD_VLLM_HOST / LLMPOD_VLLM_PORT",
        ),
        (
            '{"vllm_args": ["--model", "m", "--host=0.0.0.0"]}',
            r"contains '--host=0.0.0.0', but host and port are deployment settings",
        ),
        ('{"vllm_args": ["m"], "warmpu": {}}', r"unknown key 'warmpu'\. Did you mean 'warmup'\?"),
        (
            '{"vllm_args": ["m"], "warmup": {"concurency": 4}}',
            r"unknown key 'warmup\.concurency'\. Did you mean 'concurrency'\?",
        ),
        ('{"vllm_args": ["m"], "warmup": []}', r"'warmup' must be a JSON object, got list"),
        (
            '{"vllm_args": ["m"], "warmup": {"concurrency": 0}}',
            r"'warmup\.concurrency' must be an integer ≥ 1, got 0",
        ),
        (
            '{"vllm_args": ["m"], "warmup": {"concurrency": true}}',
            r"'warmup\.concurrency' must be an integer ≥ 1, got True",
        ),
        (
            '{"vllm_args": ["m"], "warmup": {"enabled": "yes"}}',
            r"'warmup\.enabled' must be true or false, got 'yes'",
        ),
        (
            '{"vllm_args": ["m"], "warmup": {"prompt_tokens": 128}}',
            r"'warmup\.prompt_tokens' must be a list of integers, got 128",
        ),
        (
            '{"vllm_args": ["m"], "warmup": {"prompt_tokens": [128, -1]}}',
            r"'warmup\.prompt_tokens\[\]' must be an integer ≥ 1, got -1",
        ),
        (
            '{"vllm_args": ["m"], "warmup": {"request_timeout_s": 0}}',
            r"'warmup\.request_timeout_s' must be a number > 0, got 0",
        ),
    ],
)
def test_bad_plan_documents_are_explained(document: str, match: str) -> None:
    with pytest.raises(PlanFileError, match=match):
        parse_plan(document)


def test_missing_plan_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(
        PlanFileError, match=rf"plan file {missing} does not exist.*LLMPOD_PLAN_FILE"
    ):
        load_plan(missing)


def test_unreadable_plan_file(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match=r"cannot be read: Is a directory"):
        load_plan(tmp_path)


def test_load_plan_names_the_file_in_json_errors(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"vllm_args": [}')
    with pytest.raises(PlanFileError, match=rf"plan file {path} is not valid JSON"):
        load_plan(path)


def test_rendered_document_round_trips_with_sorted_keys() -> None:
    text = render_plan_document(ARGS, {"max_tokens": 4, "concurrency": 2})
    assert text.index('"vllm_args"') < text.index('"warmup"')  # sorted: v < w
    assert text.index('"concurrency"') < text.index('"max_tokens"')
    plan = parse_plan(text)
    assert plan.vllm_args == tuple(ARGS)
    assert (plan.warmup.concurrency, plan.warmup.max_tokens) == (2, 4)


def test_render_refuses_what_the_entrypoint_would_refuse() -> None:
    with pytest.raises(PlanFileError, match=r"unknown key 'warmup\.batch'"):
        render_plan_document(ARGS, {"batch": 4})


def test_expected_figures_round_trip() -> None:
    text = render_plan_document(ARGS, None, {"kv_cache_tokens": 906256, "block_size": 16})
    plan = parse_plan(text)
    assert (plan.expected.kv_cache_tokens, plan.expected.block_size) == (906256, 16)
    # A plan file written before "expected" existed still reads, with nothing expected.
    assert parse_plan(json.dumps({"vllm_args": ARGS})).expected.kv_cache_tokens is None


@pytest.mark.parametrize(
    ("expected", "match"),
    [
        ('{"kv_cache_tokens": 0}', r"'expected\.kv_cache_tokens' must be an integer ≥ 1, got 0"),
        ('{"kv_cache_tokens": "9e5"}', r"'expected\.kv_cache_tokens' must be an integer"),
        ('{"block_size": true}', r"'expected\.block_size' must be an integer ≥ 1, got True"),
        ('{"kv_tokens": 5}', r"unknown key 'expected\.kv_tokens'\. Did you mean 'kv_cache_tokens'"),
        ("[]", r"'expected' must be a JSON object, got list"),
    ],
)
def test_bad_expected_figures_are_explained(expected: str, match: str) -> None:
    with pytest.raises(PlanFileError, match=match):
        parse_plan(f'{{"vllm_args": ["m"], "expected": {expected}}}')
