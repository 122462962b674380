"""Reconcile a requested ``--quantization`` with what the checkpoint declares."""

from __future__ import annotations

from llmpod.errors import LlmpodError
from llmpod.models.facts import ModelFacts, QuantFacts
from llmpod.models.quant_config import CHECKPOINT_ONLY, ONLINE
from llmpod.planner.name_hints import declared_storage, quantization_hint


def online_quantization(requested: str | None, m: ModelFacts) -> QuantFacts | None:
    """The quantization vLLM applies at load time, or None to use the checkpoint's own."""
    if not requested:
        return None
    q = requested.lower()
    if m.quant is not None:
        if q in (m.quant.vllm_name, m.quant.method) or q.startswith(m.quant.vllm_name):
            return None  # the checkpoint already is what was asked for
        raise LlmpodError(
            code="quantization_mismatch",
            message=(
                f"{m.name} is already quantized ({m.quant.method}, vLLM "
                f"--quantization {m.quant.vllm_name}); --quantization {requested} "
                f"cannot be applied on top."
            ),
            suggestions=[f"drop --quantization or pass {m.quant.vllm_name}"],
        )
    if q in ONLINE:
        return ONLINE[q]
    hint = quantization_hint(m.name)
    declared = declared_storage(q, hint) if hint else None
    if declared is not None:
        # The name says the checkpoint is quantized and its config.json does not:
        # the user's --quantization is how it is stored (finding of issue 11).
        return declared
    if q in CHECKPOINT_ONLY:
        raise LlmpodError(
            code="quantization_needs_checkpoint",
            message=(
                f"--quantization {requested} needs a checkpoint quantized that way, but "
                f"{m.name} is an unquantized {m.dtype} checkpoint."
            ),
            suggestions=[
                f"point --model at a {requested} checkpoint (see `llmpod catalog models`)",
                "or use --quantization fp8 (vLLM quantizes at load time)",
            ],
        )
    raise LlmpodError(
        code="unknown_quantization",
        message=f"Unknown quantization {requested!r}.",
        suggestions=[
            "use fp8 or bitsandbytes on an unquantized checkpoint, or a pre-quantized "
            "awq / gptq / compressed-tensors / fp8 checkpoint"
        ],
    )


def quantization_warnings(m: ModelFacts, *, overridden: bool) -> list[str]:
    """A warning when the name suggests a quantization the config does not declare
    (and no --quantization says how the checkpoint is stored)."""
    hint = quantization_hint(m.name)
    if m.quant is not None or hint is None or overridden:
        return []
    flag = {
        "awq": "awq",
        "gptq": "gptq",
        "fp8": "compressed-tensors",
        "int8": "compressed-tensors",
        "w4a16": "compressed-tensors",
    }.get(hint)
    how = f"; if it is, pass --quantization {flag} (spec: quantization: {flag})" if flag else ""
    return [
        f"{m.name}: the name suggests {hint} weights, but its config.json has no "
        f"quantization_config, so it is sized as unquantized {m.dtype}{how}"
    ]
