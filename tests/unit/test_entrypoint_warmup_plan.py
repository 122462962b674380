"""Which warmup requests are built, and how prompts are fitted to a token length."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from llmpod.image.runtime.plan_file import WarmupConfig
from llmpod.image.runtime.warmup_plan import (
    LABEL_SLACK_TOKENS,
    PromptSearch,
    completion_payload,
    filler_text,
    is_context_too_long,
    warmup_steps,
)


def test_default_steps_cover_short_near_max_and_batch() -> None:
    steps = warmup_steps(WarmupConfig(), max_model_len=8192)
    # defaults: prompt_tokens (128,), max_tokens 16, concurrency 1, batch 128
    assert [(s.name, s.prompt_tokens) for s in steps] == [
        ("prompt_128", (128,)),
        ("near_max_context", (8192 - 16,)),
        ("batch_1x128", (128,)),
    ]
    assert {s.max_tokens for s in steps} == {16}


def test_batch_has_the_planned_concurrency() -> None:
    config = WarmupConfig(concurrency=32, batch_prompt_tokens=512)
    batch = warmup_steps(config, max_model_len=4096)[-1]
    assert batch.name == "batch_32x512"
    assert batch.prompt_tokens == (512,) * 32


def test_prompt_lengths_are_clipped_to_the_context_and_deduplicated() -> None:
    config = WarmupConfig(prompt_tokens=(100, 600, 900), max_tokens=12, near_max_context=False)
    steps = warmup_steps(config, max_model_len=512)
    # 600 and 900 both clip to 512 − 12 = 500: one request, not two.
    assert [s.name for s in steps] == ["prompt_100", "prompt_500", "batch_1x128"]


def test_batch_prompt_leaves_room_for_labels_at_full_context() -> None:
    config = WarmupConfig(batch_prompt_tokens=10_000, max_tokens=16, concurrency=2)
    batch = warmup_steps(config, max_model_len=1024)[-1]
    assert batch.prompt_tokens == (1024 - 16 - LABEL_SLACK_TOKENS,) * 2


def test_max_tokens_larger_than_context_still_leaves_a_prompt() -> None:
    config = WarmupConfig(max_tokens=4096, prompt_tokens=())
    steps = warmup_steps(config, max_model_len=512)
    near = next(s for s in steps if s.name == "near_max_context")
    assert near.max_tokens == 256 and near.prompt_tokens == (256,)


def test_disabled_warmup_sends_nothing() -> None:
    assert warmup_steps(WarmupConfig(enabled=False), max_model_len=4096) == []


def test_too_small_context_is_refused() -> None:
    with pytest.raises(ValueError, match=r"max_model_len must be ≥ 2 for warmup, got 1"):
        warmup_steps(WarmupConfig(), max_model_len=1)


def test_filler_text_is_deterministic_and_varied() -> None:
    text = filler_text(100)
    assert text == filler_text(100)
    words = text.split()
    assert len(words) == 100
    assert len(set(words)) >= 16  # a repeated word would let BPE collapse the prompt
    assert filler_text(0) == ""


def _search(
    tokens_for: Callable[[int], int], target: int, rounds: int = 16
) -> tuple[int, int] | None:
    search = PromptSearch(target)
    words: int | None = search.first_guess()
    for _ in range(rounds):
        if words is None:
            break
        words = search.record(words, tokens_for(words))
    return search.best


@pytest.mark.parametrize(
    ("name", "tokens_for"),
    [
        ("one token per word + BOS", lambda w: w + 1),
        ("1.5 tokens per word + label", lambda w: (3 * w) // 2 + 6),
        ("0.7 tokens per word", lambda w: (7 * w) // 10 + 2),
        ("2 tokens per word", lambda w: 2 * w + 3),
    ],
)
@pytest.mark.parametrize("target", [1, 7, 100, 487, 8000])
def test_prompt_search_finds_the_longest_fitting_prompt(
    name: str, tokens_for: Callable[[int], int], target: int
) -> None:
    # The answer by brute force: the most tokens any fitting word count reaches.
    counts = [tokens_for(w) for w in range(1, 20_000)]
    fitting = [c for c in counts if c <= target]
    found = _search(tokens_for, target)
    if not fitting:
        assert found is None, name
    else:
        assert found is not None and found[1] == max(fitting), name
        assert tokens_for(found[0]) == found[1]


def test_completion_payload_generates_exactly_max_tokens() -> None:
    payload = completion_payload("m", "hello", 7)
    assert payload == {
        "model": "m",
        "prompt": "hello",
        "max_tokens": 7,
        "temperature": 0,
        "ignore_eos": True,
    }


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        # vLLM 0.32's wording for a prompt + max_tokens above max_model_len.
        (
            400,
            '{"error":{"message":"This model\'s maximum context length is 512 tokens. However,'
            ' you requested 600 tokens","type":"BadRequestError"}}',
            True,
        ),
        (400, '{"error":{"message":"The prompt is too long"}}', True),
        (400, '{"error":{"message":"temperature must be >= 0"}}', False),
        (500, '{"error":{"message":"maximum context length"}}', False),
        (200, "", False),
    ],
)
def test_context_too_long_detection(status: int, body: str, expected: bool) -> None:
    assert is_context_too_long(status, body) is expected
