"""Read a checkpoint's ``quantization_config`` the way vLLM interprets it.

Each branch mirrors the quantization method vLLM selects from the config's
``quant_method`` (vllm/model_executor/layers/quantization/__init__.py, v0.32):
the storage width matters to the planner (weight bytes), the activation scheme
matters to GPU eligibility (fp8 activations need Ada/Hopper or newer).
"""

from __future__ import annotations

from typing import Any

from llmpod.errors import LlmpodError
from llmpod.models.facts import QuantFacts

SUPPORTED = ("awq", "bitsandbytes", "compressed-tensors", "fp8", "gptq", "mxfp4", "modelopt")


def parse_quantization_config(qc: dict[str, Any], *, model: str) -> QuantFacts:
    method = str(qc.get("quant_method", "")).lower()
    if method == "fp8":
        block = qc.get("weight_block_size")
        if block:
            return QuantFacts(
                "fp8-block", "fp8", 8, block=(int(block[0]), int(block[1])), activations="fp8"
            )
        return QuantFacts("fp8", "fp8", 8, activations="fp8")
    if method in ("awq", "awq_marlin"):
        return QuantFacts(
            "awq",
            "awq",
            float(qc.get("bits", qc.get("w_bit", 4))),
            group_size=_group(qc.get("group_size", qc.get("q_group_size", 128))),
        )
    if method in ("gptq", "gptq_marlin"):
        return QuantFacts(
            "gptq", "gptq", float(qc.get("bits", 4)), group_size=_group(qc.get("group_size", 128))
        )
    if method == "bitsandbytes":
        if qc.get("load_in_4bit") or qc.get("_load_in_4bit"):
            return QuantFacts("bitsandbytes-4bit", "bitsandbytes", 4, group_size=64)
        return QuantFacts("bitsandbytes-8bit", "bitsandbytes", 8)
    if method == "mxfp4":
        # gpt-oss: only the MoE expert weights are MXFP4 (4-bit values, one e8m0
        # scale per 32 elements); attention and embeddings stay bf16.
        return QuantFacts("mxfp4", "mxfp4", 4, group_size=32, experts_only=True)
    if method == "modelopt":
        nested = qc.get("quantization", {}).get("quant_algo", "")
        algo = str(qc.get("quant_algo", nested)).upper()
        if "FP4" in algo:
            return QuantFacts("nvfp4", "modelopt_fp4", 4, group_size=16, activations="fp8")
        return QuantFacts("fp8", "modelopt", 8, activations="fp8")
    if method == "compressed-tensors":
        return _compressed_tensors(qc, model=model)
    raise LlmpodError(
        code="unsupported_quantization",
        message=(
            f"Model {model!r} declares quantization_config.quant_method={method!r}, which "
            f"llmpod cannot size."
        ),
        suggestions=[
            f"use a checkpoint quantized with one of {', '.join(SUPPORTED)}",
            "or serve the unquantized checkpoint",
        ],
    )


def _group(value: Any) -> int | None:
    g = int(value) if value is not None else -1
    return None if g <= 0 else g


def _compressed_tensors(qc: dict[str, Any], *, model: str) -> QuantFacts:
    groups = qc.get("config_groups") or {}
    if not groups:
        raise LlmpodError(
            code="model_config_invalid",
            message=(
                f"Model {model!r}: compressed-tensors quantization_config has no config_groups."
            ),
            suggestions=["check the checkpoint's config.json"],
        )
    # All llm-compressor recipes llmpod knows use one scheme for every Linear.
    scheme = next(iter(groups.values()))
    weights = scheme.get("weights") or {}
    acts = scheme.get("input_activations") or None
    bits = int(weights.get("num_bits", 8))
    wtype = str(weights.get("type", "int"))
    strategy = str(weights.get("strategy", "channel"))
    group = _group(weights.get("group_size")) if strategy == "group" else None
    block = weights.get("block_structure")
    kv_fp8 = bool(qc.get("kv_cache_scheme"))
    activations: Any = "none"
    if acts:
        activations = "fp8" if str(acts.get("type")) == "float" else "int8"
    if wtype == "float" and bits == 8:
        method: Any = "fp8-block" if block else "fp8"
    elif bits == 8:
        method = "int8"
    elif bits == 4 and wtype == "float":
        method = "nvfp4"
    else:
        method = "w4a16"
    return QuantFacts(
        method,
        "compressed-tensors",
        bits,
        group_size=group,
        block=(int(block[0]), int(block[1])) if block else None,
        kv_cache_fp8=kv_fp8,
        activations=activations,
    )


#: ``--quantization`` values a user may request for an unquantized checkpoint
#: (vLLM quantizes these on the fly at load time).
ONLINE = {
    "fp8": QuantFacts("fp8", "fp8", 8, activations="fp8"),
    "bitsandbytes": QuantFacts("bitsandbytes-4bit", "bitsandbytes", 4, group_size=64),
}

#: ``--quantization`` values that only name how a checkpoint is already stored: vLLM
#: cannot apply them at load time.
CHECKPOINT_ONLY = (
    "awq",
    "awq_marlin",
    "gptq",
    "gptq_marlin",
    "compressed-tensors",
    "mxfp4",
    "modelopt",
    "modelopt_fp4",
)

#: Every ``quantization`` value llmpod accepts (the spec's field, `llmpod plan
#: --quantization`): the one list; the planner decides what each means for a checkpoint.
QUANTIZATIONS = (*ONLINE, *CHECKPOINT_ONLY)
