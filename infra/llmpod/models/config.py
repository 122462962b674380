"""Turn a raw Hugging Face ``config.json`` into ``ModelFacts``.

Field aliases and derivations follow vLLM (v0.32/0.33):
- KV heads: ``CONFIG_FIELD_ALIASES`` in vllm/transformers_utils/config.py;
- head size: ``get_head_size`` in vllm/transformers_utils/model_arch_config_convertor.py;
- default max_model_len: ``_get_and_verify_max_len`` in vllm/config/model.py.
Multimodal checkpoints keep the language model under ``text_config``; the vision
tower only adds weights (estimated from ``vision_config``).
"""

from __future__ import annotations

from typing import Any

from llmpod.errors import LlmpodError
from llmpod.models.facts import LayerKind, MLAFacts, ModelFacts, MoEFacts
from llmpod.models.pooling import ENCODER_CLASSIFY, ENCODER_EMBED, pooling_task
from llmpod.models.quant_config import parse_quantization_config

_KV_HEAD_KEYS = (
    "n_head_kv",
    "num_kv_heads",
    "num_key_value_heads",
    "multi_query_group_num",
    "num_attention_groups",
)
_MAX_LEN_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "model_max_length",
    "max_target_positions",
    "max_sequence_length",
    "max_seq_length",
    "seq_len",
)
#: Layer-count keys, and the most llmpod accepts: the deepest published models
#: have a few hundred layers, and config classes build per-layer lists from it.
LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers")
MAX_LAYERS = 2048
_EXPERT_KEYS = ("num_experts", "moe_num_experts", "n_routed_experts", "num_local_experts")
# Rope types whose max_position_embeddings already include the extension.
_NO_ROPE_MULTIPLY = {
    "su",
    "longrope",
    "llama3",
    "yarn",
    "deepseek_yarn",
    "deepseek_llama_scaling",
    "linear_gemma3",
}
# Architectures with a two-matrix (non-gated) MLP.
_PLAIN_MLP = {
    "PhiForCausalLM",
    "GPT2LMHeadModel",
    "GPTNeoXForCausalLM",
    "FalconForCausalLM",
    "Starcoder2ForCausalLM",
    "GPTBigCodeForCausalLM",
    "OPTForCausalLM",
    *ENCODER_EMBED,
    *ENCODER_CLASSIFY,
}


def _first(cfg: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if cfg.get(k) is not None:
            return cfg[k]
    return None


def _require(cfg: dict[str, Any], name: str, *keys: str) -> int:
    value = _first(cfg, *keys)
    if value is None:
        raise LlmpodError(
            code="model_config_invalid",
            message=(
                f"config.json of {name!r} has no {keys[0]!r}"
                + (f" (nor {', '.join(keys[1:])})" if len(keys) > 1 else "")
                + "; llmpod needs it to size the model."
            ),
            suggestions=[
                "pass the model's own config.json (the file vLLM reads)",
                "or use a catalog name from `llmpod catalog models`",
            ],
        )
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise LlmpodError(
            code="model_config_invalid",
            message=f"config.json of {name!r}: {keys[0]}={value!r} is not a positive number.",
            suggestions=["fix the value in config.json"],
        )
    return int(value)


def check_layer_count(cfg: dict[str, Any], name: str) -> None:
    """Refuse a layer count no real model has, before anything sizes lists by it."""
    for key in LAYER_KEYS:
        value = cfg.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_LAYERS:
            raise LlmpodError(
                code="model_config_invalid",
                message=f"config.json of {name!r}: {key}={value} is more layers than any "
                f"published model has; llmpod accepts at most {MAX_LAYERS:,}.",
                suggestions=[f"fix {key} in config.json"],
            )


def parse_model_config(raw: dict[str, Any], *, name: str, source: str = "") -> ModelFacts:
    """Facts vLLM would use for this config (text model, plus vision weights)."""
    if not isinstance(raw, dict):
        raise LlmpodError(
            code="model_config_invalid",
            message=f"config.json of {name!r} is not a JSON object.",
            suggestions=["pass the model's config.json"],
        )
    arch = str((raw.get("architectures") or ["unknown"])[0])
    text = raw.get("text_config") or raw.get("llm_config") or raw
    if not isinstance(text, dict):
        raise LlmpodError(
            code="model_config_invalid",
            message=f"config.json of {name!r}: text_config is a JSON "
            f"{type(text).__name__}, not an object.",
            suggestions=["pass the model's config.json as published"],
        )
    qc = raw.get("quantization_config") or text.get("quantization_config")

    layers = _require(text, name, *LAYER_KEYS)
    check_layer_count(text, name)
    hidden = _require(text, name, "hidden_size", "d_model", "n_embd")
    heads = _require(text, name, "num_attention_heads", "n_head", "num_heads")
    kv_heads = int(_first(text, *_KV_HEAD_KEYS) or heads)
    head_dim = int(_first(text, "head_dim") or 0) or int(
        _first(text, "hidden_size_per_head") or hidden // heads
    )
    vocab = _require(text, name, "vocab_size", "padded_vocab_size")
    inter = int(_first(text, "intermediate_size", "ffn_dim", "n_inner") or 4 * hidden)

    mla = None
    if text.get("kv_lora_rank"):
        mla = MLAFacts(
            kv_lora_rank=int(text["kv_lora_rank"]),
            q_lora_rank=int(text["q_lora_rank"]) if text.get("q_lora_rank") else None,
            qk_rope_head_dim=int(text.get("qk_rope_head_dim", 64)),
            qk_nope_head_dim=int(text.get("qk_nope_head_dim", 128)),
            v_head_dim=int(text.get("v_head_dim", 128)),
        )
        head_dim = mla.qk_nope_head_dim + mla.qk_rope_head_dim

    moe = _moe(text, layers, inter)
    kinds, window = _layer_kinds(text, layers)
    dtype = str(
        _first(text, "torch_dtype", "dtype") or _first(raw, "torch_dtype", "dtype") or "bfloat16"
    )
    dtype = {
        "bf16": "bfloat16",
        "fp16": "float16",
        "half": "float16",
        "fp32": "float32",
        "float": "float32",
    }.get(dtype, dtype)
    if dtype not in ("bfloat16", "float16", "float32"):
        dtype = "bfloat16"

    task, encoder_only = pooling_task(arch)
    partial = float(text.get("partial_rotary_factor", 1.0))
    rotary = mla.qk_rope_head_dim if mla else int(head_dim * partial)
    return ModelFacts(
        name=name,
        architecture=arch,
        model_type=str(raw.get("model_type", "")),
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=inter,
        vocab_size=vocab,
        tie_word_embeddings=bool(
            raw.get("tie_word_embeddings", text.get("tie_word_embeddings", False))
        ),
        max_model_len=_encoder_max_len(text) if encoder_only else derive_max_model_len(text),
        max_position_embeddings=int(_first(text, *_MAX_LEN_KEYS) or 0),
        dtype=dtype,  # type: ignore[arg-type]  # narrowed by the check above
        layer_kinds=kinds,
        sliding_window=window,
        moe=moe,
        mla=mla,
        quant=parse_quantization_config(qc, model=name) if qc else None,
        mlp_matrices=2 if arch in _PLAIN_MLP else 3,
        attention_bias=bool(
            text.get("attention_bias")
            or text.get("qkv_bias")
            or text.get("model_type") in ("qwen2", "qwen2_moe")
        ),
        extra_params=_vision_params(raw.get("vision_config"), hidden),
        rotary_dim=rotary,
        mtp_layers=int(_first(text, "num_nextn_predict_layers") or 0),
        pooling=task,
        encoder_only=encoder_only,
        source=source,
    )


def _moe(text: dict[str, Any], layers: int, inter: int) -> MoEFacts | None:
    experts = _first(text, *_EXPERT_KEYS)
    if not experts:
        return None
    expert_inter = int(_first(text, "moe_intermediate_size") or inter)
    shared = int(text.get("shared_expert_intermediate_size") or 0)
    if not shared and text.get("n_shared_experts"):
        shared = int(text["n_shared_experts"]) * expert_inter
    dense: list[int] = list(range(int(text.get("first_k_dense_replace") or 0)))
    step = int(text.get("decoder_sparse_step") or text.get("interleave_moe_layer_step") or 1)
    if step > 1:
        dense += [i for i in range(layers) if (i + 1) % step != 0]
    dense += [int(i) for i in (text.get("mlp_only_layers") or [])]
    return MoEFacts(
        num_experts=int(experts),
        experts_per_token=int(
            _first(text, "num_experts_per_tok", "moe_top_k", "num_experts_per_token") or 2
        ),
        expert_intermediate_size=expert_inter,
        shared_intermediate_size=shared,
        dense_layers=tuple(sorted(set(dense))),
    )


def _layer_kinds(text: dict[str, Any], layers: int) -> tuple[tuple[LayerKind, ...], int | None]:
    window = text.get("sliding_window")
    types = text.get("layer_types")
    full: LayerKind = "full"
    sliding: LayerKind = "sliding"
    if isinstance(types, list) and len(types) == layers:
        kinds = tuple(sliding if "sliding" in str(t) or "chunk" in str(t) else full for t in types)
        return kinds, int(window) if window and sliding in kinds else None
    if not window or text.get("use_sliding_window") is False:
        return (full,) * layers, None
    model_type = str(text.get("model_type", ""))
    pattern = text.get("sliding_window_pattern")
    if pattern:  # Gemma 3: every pattern-th layer is global.
        kinds_l: list[LayerKind] = [
            "full" if (i + 1) % int(pattern) == 0 else "sliding" for i in range(layers)
        ]
        return tuple(kinds_l), int(window)
    if model_type.startswith("gemma2") or model_type == "cohere2":
        # Gemma 2 alternates, starting with a sliding layer.
        return tuple(sliding if i % 2 == 0 else full for i in range(layers)), int(window)
    # Mistral-7B v0.1 style: every layer sliding.
    return (sliding,) * layers, int(window)


def derive_max_model_len(text: dict[str, Any]) -> int:
    """The context vLLM uses when ``--max-model-len`` is not given."""
    values = [int(text[k]) for k in _MAX_LEN_KEYS if isinstance(text.get(k), int | float)]
    derived = min(values) if values else 2048
    rope = text.get("rope_scaling") or {}
    # Gemma 3's linear factor is already reflected in max_position_embeddings;
    # vLLM skips the multiplication for it (vllm/config/model.py, v0.33).
    if str(text.get("model_type", "")).startswith("gemma3"):
        rope = {}
    if isinstance(rope, dict) and rope.get("factor"):
        rope_type = str(rope.get("rope_type", rope.get("type", "")))
        if rope_type == "longrope" and rope.get("original_max_position_embeddings"):
            derived = int(rope["original_max_position_embeddings"])
        elif rope_type not in _NO_ROPE_MULTIPLY and rope_type not in ("", "default"):
            derived = int(derived * float(rope["factor"]))
    return derived


def _encoder_max_len(text: dict[str, Any]) -> int:
    """Positions a BERT-family encoder can embed.

    RoBERTa-style models number positions from padding_idx + 1
    (``create_position_ids_from_input_ids`` in vllm/model_executor/models/roberta.py,
    0.32), so XLM-R's 514 position embeddings hold 512 tokens — the
    ``model_max_length`` their tokenizer_config.json states, which vLLM applies to
    pooling models with absolute positions (``get_and_verify_max_len``).
    """
    derived = derive_max_model_len(text)
    if str(text.get("model_type", "")) in ("roberta", "xlm-roberta", "camembert"):
        pad = text.get("pad_token_id")
        derived -= (int(pad) if isinstance(pad, int) else 1) + 1
    return derived


def _vision_params(vision: dict[str, Any] | None, text_hidden: int) -> int:
    """Rough size of a ViT tower plus projector; only adds weight bytes."""
    if not vision:
        return 0
    h = int(vision.get("hidden_size", 0) or 0)
    i = int(vision.get("intermediate_size", 4 * h) or 0)
    n = int(vision.get("num_hidden_layers", vision.get("depth", 0)) or 0)
    if not (h and n):
        return 0
    mlp = 3 if str(vision.get("hidden_act", "")).startswith("silu") else 2
    per_layer = 4 * h * h + mlp * h * i
    patch = int(vision.get("patch_size", 14) or 14)
    channels = int(vision.get("num_channels", 3) or 3)
    projector = h * text_hidden + text_hidden * text_hidden
    return n * per_layer + patch * patch * channels * h + projector
