"""vLLM's shape rules for TP/PP, checked against a model of vLLM's own asserts.

``_vllm_accepts`` re-enacts what vLLM does when it builds the layers
(QKVParallelLinear, VocabParallelEmbedding, MergedColumnParallelLinear call
``divide``, which asserts exact division); the planner's rule must agree with
it for every shape hypothesis generates.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmpod.models.config import parse_model_config
from llmpod.models.facts import ModelFacts
from llmpod.planner.layout import pp_partition, tp_violation


def _divide(a: int, b: int) -> int:
    assert a % b == 0, f"{a} is not divisible by {b}"
    return a // b


def _vllm_accepts(heads: int, kv: int, vocab: int, inter: int, tp: int) -> bool:
    try:
        if heads % tp:  # ModelConfig.verify_with_parallel_config raises ValueError
            raise ValueError
        _divide(heads, tp)
        if tp >= kv:
            _divide(tp, kv)
        else:
            _divide(kv, tp)
        padded = (vocab + 63) // 64 * 64
        _divide(padded, tp)
        _divide(inter, tp)
    except (AssertionError, ValueError):
        return False
    return True


def _model(
    heads: int, kv: int, vocab: int = 32000, inter: int = 11008, layers: int = 32
) -> ModelFacts:
    head_dim = 128
    return parse_model_config(
        {
            "architectures": ["LlamaForCausalLM"],
            "num_hidden_layers": layers,
            "hidden_size": heads * head_dim,
            "num_attention_heads": heads,
            "num_key_value_heads": kv,
            "intermediate_size": inter,
            "vocab_size": vocab,
            "max_position_embeddings": 4096,
        },
        name="synthetic",
    )


@settings(max_examples=300, deadline=None)
@given(
    heads=st.integers(1, 128),
    kv_div=st.integers(1, 16),
    vocab=st.integers(1000, 260000),
    inter=st.integers(1, 64).map(lambda x: x * 256 * 3),
    tp=st.integers(1, 16),
)
def test_tp_rule_matches_vllm_asserts(
    heads: int, kv_div: int, vocab: int, inter: int, tp: int
) -> None:
    kv = max(1, heads // kv_div) if heads % kv_div == 0 else heads
    m = _model(heads, kv, vocab, inter)
    assert (tp_violation(m, tp) is None) == _vllm_accepts(heads, kv, vocab, inter, tp)


def test_48_heads_can_use_tp6_and_28_heads_cannot_use_tp8() -> None:
    # 48 heads (MHA) with a vocabulary that pads to a multiple of 6.
    ok = _model(48, 48, vocab=49152, inter=6 * 4096)
    assert tp_violation(ok, 6) is None
    qwen7b_like = _model(28, 4, vocab=152064, inter=18944)
    problem = tp_violation(qwen7b_like, 8)
    assert problem is not None and "28 attention heads" in problem and "8" in problem


def test_kv_heads_replicate_when_tp_exceeds_them() -> None:
    m = _model(64, 8, vocab=128256, inter=28672)
    assert tp_violation(m, 16) is None  # 16 % 8 == 0: each KV head on two GPUs
    m3 = _model(48, 3, vocab=49152, inter=6 * 4096)
    assert tp_violation(m3, 2) is not None  # neither 3 % 2 nor 2 % 3


def test_fp8_block_shape_rejects_uneven_shards() -> None:
    # DeepSeek-V3 experts are 2048 wide with 128×128 fp8 blocks: TP 16 → 128 per
    # shard (ok), TP 32 → 64 (not a whole block).
    from llmpod.models.catalog import find

    raw = find("deepseek-ai/DeepSeek-V3")
    m = parse_model_config(raw.config, name=raw.name)
    assert tp_violation(m, 8) is None
    bad = tp_violation(m, 32)
    assert bad is not None and "block" in bad


@given(layers=st.integers(1, 200), pp=st.integers(1, 16))
def test_pp_partition_covers_all_layers(layers: int, pp: int) -> None:
    if pp > layers:
        return
    parts = pp_partition(layers, pp)
    assert sum(parts) == layers and len(parts) == pp
    assert max(parts) - min(parts) <= 1
    if layers % pp and pp > 1:
        # vLLM puts the remainder on inner stages first; the last stage is never larger.
        assert parts[-1] == min(parts)


@pytest.mark.parametrize(
    ("layers", "pp", "expected"),
    [
        (32, 4, [8, 8, 8, 8]),
        (32, 3, [11, 11, 10]),  # remainder 2 -> partitions[-2], partitions[-3]
        (61, 2, [31, 30]),  # DeepSeek-V3 across two nodes
        (10, 4, [2, 3, 3, 2]),  # remainder 2 with pp 4 -> the middle stages
    ],
)
def test_pp_partition_examples(layers: int, pp: int, expected: list[int]) -> None:
    assert pp_partition(layers, pp) == expected
