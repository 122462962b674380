"""Which warmup requests to send: pure functions of the warmup config and the model.

Stdlib only (copied into the image). ``warmup_steps`` decides the prompt lengths and
batch sizes; ``warmup.py`` turns them into real prompts and sends them.

Why each step exists:

* one lone request per configured prompt length — the prefill kernels for those
  shapes get compiled/autotuned before a user waits for them;
* one request near the maximum context (prompt ≈ max_model_len − max_tokens) —
  the largest attention shapes and the KV-cache high-water mark, where the first
  real long request would otherwise hit the slow path or an out-of-memory error;
* one concurrent batch at the planned concurrency — the batched decode paths
  (CUDA graphs captured for that batch size on GPUs) are exercised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .plan_file import WarmupConfig

#: Batch requests share one measured body but carry different labels ("r0000",
#: "r0001", ...); this slack absorbs a label that tokenizes a little longer.
LABEL_SLACK_TOKENS = 4

# A fixed, varied vocabulary: repeating one word lets BPE merge runs into few
# tokens, which would make "N words ≈ N tokens" wildly wrong.
_WORDS = (
    "river", "stone", "bright", "quiet", "garden", "window", "silver", "market",
    "engine", "forest", "letter", "number", "yellow", "thunder", "pocket", "island",
    "winter", "candle", "bridge", "planet", "copper", "meadow", "signal", "harbor",
    "paper", "rocket", "violet", "cotton", "lantern", "mirror", "orchard", "velvet",
)  # fmt: skip


@dataclass(frozen=True)
class WarmupStep:
    """Requests sent together: one entry per concurrent request, its prompt length."""

    name: str
    prompt_tokens: tuple[int, ...]
    max_tokens: int


#: A pooling request generates nothing, but a cross-encoder's pair carries more
#: special tokens than /tokenize counts for one text (XLM-R: <s> a </s></s> b </s>).
POOLING_SLACK_TOKENS = 8


def effective_max_tokens(config: WarmupConfig, max_model_len: int) -> int:
    """Generated tokens per warmup request, leaving room for a prompt."""
    if config.api != "completions":
        return min(POOLING_SLACK_TOKENS, max_model_len // 2)
    if config.max_tokens < max_model_len:
        return config.max_tokens
    return max(1, max_model_len // 2)


def warmup_steps(config: WarmupConfig, max_model_len: int) -> list[WarmupStep]:
    """The warmup requests, in the order they are sent. Empty when warmup is disabled."""
    if not config.enabled:
        return []
    if max_model_len < 2:
        raise ValueError(f"max_model_len must be ≥ 2 for warmup, got {max_model_len}")
    max_tokens = effective_max_tokens(config, max_model_len)
    budget = max_model_len - max_tokens
    steps: list[WarmupStep] = []
    seen: set[int] = set()
    for length in config.prompt_tokens:
        clipped = min(length, budget)
        if clipped in seen:
            continue
        seen.add(clipped)
        steps.append(WarmupStep(f"prompt_{clipped}", (clipped,), max_tokens))
    if config.near_max_context:
        steps.append(WarmupStep("near_max_context", (budget,), max_tokens))
    batch_len = max(1, min(config.batch_prompt_tokens, budget - LABEL_SLACK_TOKENS))
    steps.append(
        WarmupStep(
            f"batch_{config.concurrency}x{batch_len}",
            (batch_len,) * config.concurrency,
            max_tokens,
        )
    )
    return steps


def filler_text(n_words: int) -> str:
    """Deterministic prose of ``n_words`` words (varied so BPE cannot collapse it)."""
    words = [_WORDS[(i * 7 + i // len(_WORDS)) % len(_WORDS)] for i in range(max(0, n_words))]
    return " ".join(words)


def labelled(label: str, body: str) -> str:
    """A distinct first line per request, so vLLM's prefix cache cannot skip the prefill."""
    return f"{label}: {body}"


@dataclass
class PromptSearch:
    """Find the largest word count whose prompt has at most ``target`` tokens.

    Tokenizers differ, so the count is measured (vLLM's /tokenize), not assumed:
    proportional guesses until the target is bracketed, then bisection.
    """

    target: int
    best: tuple[int, int] | None = None  # (words, tokens): largest that fits
    too_long: int | None = None  # smallest word count that did not fit

    def first_guess(self) -> int:
        return max(1, self.target)

    def record(self, words: int, tokens: int) -> int | None:
        """Note one measurement; the next word count to try, or None when done."""
        if tokens <= self.target:
            if self.best is None or words > self.best[0]:
                self.best = (words, tokens)
        elif self.too_long is None or words < self.too_long:
            self.too_long = words
        if self.best is not None and (
            self.best[1] == self.target
            or (self.too_long is not None and self.too_long - self.best[0] <= 1)
        ):
            return None
        if self.best is not None and self.too_long is not None:
            return (self.best[0] + self.too_long) // 2
        if self.best is None and words <= 1:
            return None  # even one word is too long: the target cannot be met
        guess = max(1, words * self.target // max(1, tokens))
        if guess == words:
            guess = words + 1 if tokens < self.target else words - 1
        return max(1, guess)


def shrink_after_rejection(target: int) -> int:
    """A smaller prompt after vLLM rejected one as longer than the context."""
    return max(1, target * 3 // 4)


def completion_payload(model: str, prompt: str, max_tokens: int) -> dict[str, Any]:
    """The /v1/completions body of one warmup request.

    ``ignore_eos`` (a vLLM sampling extension) makes every request generate exactly
    ``max_tokens``, so the decode path runs as long as planned and the timings of
    different warmups compare; temperature 0 keeps the sampler on its cheapest path.
    """
    return {
        "model": model,
        "prompt": prompt,
        "max_tokens": max_tokens,
        "temperature": 0,
        "ignore_eos": True,
    }


def request_for(api: str, model: str, prompt: str, max_tokens: int) -> dict[str, Any]:
    """The body of one warmup request to ``api`` (see plan_file.WARMUP_APIS).

    A score request splits the prompt into a query and a document, so the pair
    is as long as the prompt a completion would have sent.
    """
    if api == "embeddings":
        return {"model": model, "input": prompt}
    if api == "score":
        words = prompt.split(" ")
        half = max(1, len(words) // 2)
        return {
            "model": model,
            "queries": " ".join(words[:half]),
            "documents": " ".join(words[half:]) or words[0],
        }
    return completion_payload(model, prompt, max_tokens)


def is_context_too_long(status: int, body_text: str) -> bool:
    """vLLM answers 400 when prompt + max_tokens exceeds max_model_len.

    The message wording changed across versions ("maximum context length",
    "longer than the maximum model length", "too long"), so match loosely.
    """
    if status != 400:
        return False
    lowered = body_text.lower()
    return any(
        marker in lowered
        for marker in ("context length", "maximum model length", "too long", "max_model_len")
    )
