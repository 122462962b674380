"""What a checkpoint's name says about its quantization, when its config does not.

Older AutoAWQ/AutoGPTQ exports keep the settings in quantize_config.json, and
hand-copied config.json files often lose ``quantization_config``; sizing such a
checkpoint as bf16 overstates its weights 2–4×. The name is only a hint: it
raises a warning and lets ``--quantization`` (spec: ``quantization``) say how
the checkpoint is stored; it never changes a plan on its own.
"""

from __future__ import annotations

import re

from llmpod.models.facts import QuantFacts

#: Name token (case-insensitive, between separators) → what it usually means.
_TOKENS: tuple[tuple[str, str], ...] = (
    (r"awq", "awq"),
    (r"gptq", "gptq"),
    (r"nvfp4|fp4", "nvfp4"),
    (r"mxfp4", "mxfp4"),
    (r"fp8(-dynamic)?|f8", "fp8"),
    (r"w8a8|int8|w8a16", "int8"),
    (r"w4a16|int4|4bit|q4", "w4a16"),
    (r"bnb(-4bit)?", "bitsandbytes"),
)
_SEPARATORS = re.compile(r"[-_./@\s]+")


def quantization_hint(name: str) -> str | None:
    """'awq', 'gptq', 'fp8', 'int8', 'w4a16', 'nvfp4', 'mxfp4', 'bitsandbytes' or None."""
    tokens = [t.lower() for t in _SEPARATORS.split(name) if t]
    for pattern, meaning in _TOKENS:
        if any(re.fullmatch(pattern, t) for t in tokens):
            return meaning
    return None


def declared_storage(requested: str, hint: str | None) -> QuantFacts | None:
    """How ``--quantization requested`` says an unconfigured checkpoint is stored
    (vLLM finds the details in quantize_config.json), or None when the pair
    does not say enough to size it."""
    q = requested.lower()
    if q in ("awq", "awq_marlin"):
        return QuantFacts("awq", "awq", 4, group_size=128)
    if q in ("gptq", "gptq_marlin"):
        return QuantFacts("gptq", "gptq", 4, group_size=128)
    if q == "compressed-tensors":
        if hint == "fp8":
            return QuantFacts("fp8", "compressed-tensors", 8, activations="fp8")
        if hint == "int8":
            return QuantFacts("int8", "compressed-tensors", 8, activations="int8")
        if hint in ("w4a16", "awq", "gptq"):
            return QuantFacts("w4a16", "compressed-tensors", 4, group_size=128)
    return None
