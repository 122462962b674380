"""config.json → facts: aliases, derived context, quantization formats, hybrid layers."""

from __future__ import annotations

from typing import Any

import pytest

from llmpod.errors import LlmpodError
from llmpod.models.config import derive_max_model_len, parse_model_config
from llmpod.models.quant_config import parse_quantization_config
from llmpod.planner.quantization import online_quantization

BASE = {
    "architectures": ["LlamaForCausalLM"],
    "num_hidden_layers": 4,
    "hidden_size": 512,
    "num_attention_heads": 8,
    "intermediate_size": 1024,
    "vocab_size": 1000,
    "max_position_embeddings": 4096,
}


def test_kv_heads_default_to_attention_heads_and_aliases_are_read() -> None:
    assert parse_model_config(BASE, name="x").num_kv_heads == 8
    for key in ("num_key_value_heads", "n_head_kv", "num_kv_heads", "multi_query_group_num"):
        assert parse_model_config({**BASE, key: 2}, name="x").num_kv_heads == 2


def test_head_dim_explicit_or_derived() -> None:
    assert parse_model_config(BASE, name="x").head_dim == 64
    assert parse_model_config({**BASE, "head_dim": 128}, name="x").head_dim == 128


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        (
            {
                "max_position_embeddings": 131072,
                "rope_scaling": {"rope_type": "llama3", "factor": 8},
            },
            131072,
        ),
        (
            {"max_position_embeddings": 32768, "rope_scaling": {"type": "linear", "factor": 2}},
            65536,
        ),
        ({"max_position_embeddings": 4096, "seq_length": 2048}, 2048),  # smallest key wins
        (
            {
                "max_position_embeddings": 131072,
                "model_type": "gemma3_text",
                "rope_scaling": {"rope_type": "linear", "factor": 8},
            },
            131072,
        ),
        ({}, 2048),  # vLLM's fallback when no length key exists
    ],
)
def test_derived_max_model_len(cfg: dict[str, Any], expected: int) -> None:
    assert derive_max_model_len(cfg) == expected


def test_qwen2_sliding_window_off_unless_enabled() -> None:
    cfg = {**BASE, "model_type": "qwen2", "sliding_window": 4096, "use_sliding_window": False}
    assert set(parse_model_config(cfg, name="x").layer_kinds) == {"full"}


def test_layer_types_and_gemma2_alternation() -> None:
    cfg = {
        **BASE,
        "sliding_window": 128,
        "layer_types": ["sliding_attention", "full_attention"] * 2,
    }
    assert parse_model_config(cfg, name="x").layer_kinds == ("sliding", "full") * 2
    g2 = {**BASE, "model_type": "gemma2", "sliding_window": 4096}
    assert parse_model_config(g2, name="x").layer_kinds == ("sliding", "full") * 2


@pytest.mark.parametrize(
    ("qc", "method", "bits", "group"),
    [
        ({"quant_method": "fp8", "weight_block_size": [128, 128]}, "fp8-block", 8, None),
        ({"quant_method": "awq", "bits": 4, "group_size": 128}, "awq", 4, 128),
        ({"quant_method": "gptq", "bits": 4, "group_size": -1}, "gptq", 4, None),
        ({"quant_method": "bitsandbytes", "load_in_4bit": True}, "bitsandbytes-4bit", 4, 64),
        ({"quant_method": "mxfp4"}, "mxfp4", 4, 32),
        (
            {
                "quant_method": "compressed-tensors",
                "config_groups": {
                    "g": {
                        "weights": {
                            "num_bits": 4,
                            "type": "int",
                            "strategy": "group",
                            "group_size": 128,
                        },
                        "input_activations": None,
                    }
                },
            },
            "w4a16",
            4,
            128,
        ),
        (
            {
                "quant_method": "compressed-tensors",
                "config_groups": {
                    "g": {
                        "weights": {"num_bits": 8, "type": "int", "strategy": "channel"},
                        "input_activations": {"num_bits": 8, "type": "int"},
                    }
                },
            },
            "int8",
            8,
            None,
        ),
    ],
)
def test_quantization_formats(
    qc: dict[str, Any], method: str, bits: int, group: int | None
) -> None:
    q = parse_quantization_config(qc, model="m")
    assert (q.method, q.weight_bits, q.group_size) == (method, bits, group)


def test_unknown_quantization_method_is_a_clear_error() -> None:
    with pytest.raises(LlmpodError, match=r"quant_method='eetq'.*cannot size"):
        parse_quantization_config({"quant_method": "eetq"}, model="m")


def test_requested_quantization_against_the_checkpoint() -> None:
    plain = parse_model_config(BASE, name="plain")
    assert online_quantization("fp8", plain) is not None
    with pytest.raises(LlmpodError, match="needs a checkpoint quantized that way"):
        online_quantization("awq", plain)
    awq = parse_model_config(
        {**BASE, "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}},
        name="q",
    )
    assert online_quantization("awq", awq) is None
    with pytest.raises(LlmpodError, match="already quantized"):
        online_quantization("fp8", awq)


def test_vision_tower_adds_weights_only() -> None:
    cfg = {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "text_config": {**BASE, "model_type": "gemma3_text"},
        "vision_config": {
            "hidden_size": 1152,
            "intermediate_size": 4304,
            "num_hidden_layers": 27,
            "patch_size": 14,
        },
    }
    m = parse_model_config(cfg, name="mm")
    # SigLIP-400M: 27 × (4·1152² + 2·1152·4304) ≈ 411M, plus patch embedding and projector.
    assert 400e6 < m.extra_params < 430e6
    assert m.num_layers == 4 and m.hidden_size == 512
