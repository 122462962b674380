"""Send the warmup requests to the local vLLM and time each one.

Stdlib only (copied into the image). What to send is decided in ``warmup_plan.py``;
this module builds prompts of the right token length and does the HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import vllm_http
from .plan_file import WARMUP_APIS, WarmupConfig
from .warmup_plan import (
    PromptSearch,
    WarmupStep,
    filler_text,
    is_context_too_long,
    labelled,
    request_for,
    shrink_after_rejection,
    warmup_steps,
)

LogFn = Callable[..., None]

#: Rounds of /tokenize-and-correct when building a prompt of a given length.
_FIT_ROUNDS = 16
#: Times a near-max-context prompt is shrunk after a "too long" 400.
_SHRINK_ROUNDS = 4


class WarmupError(RuntimeError):
    """A warmup request failed; the message names the request and vLLM's answer."""


def model_info(base_url: str, timeout: float) -> tuple[str, int]:
    """The served model name and its max_model_len, as vLLM itself reports them."""
    result = vllm_http.request(f"{base_url}/v1/models", timeout=timeout)
    if result.status != 200:
        raise WarmupError(f"GET /v1/models answered {result.status}: {result.text()[:300]}")
    try:
        first = result.json()["data"][0]
        return str(first["id"]), int(first["max_model_len"])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise WarmupError(
            f"GET /v1/models did not list a model with max_model_len ({exc!r}):"
            f" {result.text()[:300]}"
        ) from None


def _count_tokens(base_url: str, model: str, prompt: str, timeout: float) -> int | None:
    """Token count via vLLM's /tokenize; None if this server has no such endpoint."""
    result = vllm_http.request(
        f"{base_url}/tokenize", {"model": model, "prompt": prompt}, timeout=timeout
    )
    if result.status in (404, 405):
        return None
    if result.status != 200:
        raise WarmupError(f"POST /tokenize answered {result.status}: {result.text()[:300]}")
    return int(result.json()["count"])


def fit_prompt(
    base_url: str, model: str, target: int, timeout: float, label: str
) -> tuple[str, int | None]:
    """A prompt body such that ``labelled(label, body)`` has at most ``target`` tokens.

    Returns the body and the measured token count of the labelled prompt. Without
    a /tokenize endpoint the count is None and the body has about ``target``
    characters: an upper bound on tokens for byte-level BPE and for SentencePiece
    on ASCII text; a "too long" answer then shrinks it (see ``_run_step``).
    """
    search = PromptSearch(target)
    words: int | None = search.first_guess()
    for _ in range(_FIT_ROUNDS):
        if words is None:
            break
        counted = _count_tokens(base_url, model, labelled(label, filler_text(words)), timeout)
        if counted is None:
            return filler_text(target)[: max(1, target - len(label) - 4)], None
        words = search.record(words, counted)
    if search.best is None:
        raise WarmupError(f"could not build a prompt of ≤ {target} tokens with /tokenize")
    return filler_text(search.best[0]), search.best[1]


def _send(
    base_url: str, route: str, payload: dict[str, Any], timeout: float
) -> tuple[int, str, float]:
    started = time.monotonic()
    try:
        result = vllm_http.request(f"{base_url}{route}", payload, timeout=timeout)
    except vllm_http.VllmUnreachable as exc:
        raise WarmupError(f"warmup request got no answer from vLLM: {exc}") from None
    return result.status, result.text(), time.monotonic() - started


def _run_step(
    base_url: str, model: str, step: WarmupStep, config: WarmupConfig, log: LogFn
) -> list[dict[str, Any]]:
    timeout = config.request_timeout_s
    route = WARMUP_APIS[config.api]
    target = step.prompt_tokens[0]
    for _ in range(_SHRINK_ROUNDS + 1):
        labels = [f"r{i:04d}" for i in range(len(step.prompt_tokens))]
        body, counted = fit_prompt(base_url, model, target, timeout, labels[0])
        prompts = [labelled(label, body) for label in labels]
        payloads = [request_for(config.api, model, p, step.max_tokens) for p in prompts]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
            outcomes = list(pool.map(lambda p: _send(base_url, route, p, timeout), payloads))
        wall = time.monotonic() - started
        rejected = [o for o in outcomes if is_context_too_long(o[0], o[1])]
        if rejected and step.name == "near_max_context":
            smaller = shrink_after_rejection(target)
            log("warmup", step=step.name, action="shrink", prompt_tokens=target, to=smaller)
            target = smaller
            continue
        records = []
        for index, (status, text, duration) in enumerate(outcomes):
            if status != 200:
                raise WarmupError(
                    f"warmup request '{step.name}' #{index} (≈{target} prompt tokens,"
                    f" max_tokens {step.max_tokens}) answered {status}: {text[:300]}"
                )
            record = {
                "step": step.name,
                "index": index,
                "prompt_tokens": counted,
                "max_tokens": step.max_tokens,
                "duration_s": round(duration, 4),
                "batch_size": len(outcomes),
                "batch_wall_s": round(wall, 4),
            }
            log("warmup", **record)
            records.append(record)
        return records
    raise WarmupError(
        f"warmup request '{step.name}' was still rejected as too long after shrinking the"
        f" prompt {_SHRINK_ROUNDS} times; check --max-model-len against the tokenizer."
    )


def run_warmup(base_url: str, config: WarmupConfig, log: LogFn) -> dict[str, Any]:
    """Send every warmup step in order; returns the summary shown in /status."""
    started = time.monotonic()
    model, max_model_len = model_info(base_url, timeout=30.0)
    steps = warmup_steps(config, max_model_len)
    log(
        "warmup",
        action="start",
        model=model,
        max_model_len=max_model_len,
        steps=[s.name for s in steps],
    )
    records: list[dict[str, Any]] = []
    for step in steps:
        records.extend(_run_step(base_url, model, step, config, log))
    total = round(time.monotonic() - started, 4)
    log("warmup", action="done", total_s=total, requests=len(records))
    return {"model": model, "max_model_len": max_model_len, "total_s": total, "requests": records}
