"""KV geometry and weights from first principles (numbers worked by hand here)."""

from __future__ import annotations

import pytest

from llmpod.models.catalog import find
from llmpod.models.config import parse_model_config
from llmpod.models.facts import ModelFacts
from llmpod.planner import kv
from llmpod.planner.weights import GIB, stage_weights

V = (0, 32, 0)


def facts(name: str) -> ModelFacts:
    e = find(name)
    return parse_model_config(e.config, name=e.name)


@pytest.mark.parametrize(
    ("tp", "kv_dtype", "expected"),
    [
        (1, 2, 2 * 32 * 8 * 128 * 2),  # 131,072 B: K and V, 32 layers, 8 KV heads, dim 128, bf16
        (4, 2, 2 * 32 * 2 * 128 * 2),  # KV heads split 4 ways
        (8, 2, 2 * 32 * 1 * 128 * 2),  # one KV head per GPU
        (16, 2, 2 * 32 * 1 * 128 * 2),  # TP 16 > 8 KV heads: replicated, stops shrinking
        (1, 1, 2 * 32 * 8 * 128 * 1),  # fp8 cache halves it
    ],
)
def test_llama_8b_kv_bytes_per_token(tp: int, kv_dtype: int, expected: int) -> None:
    m = facts("meta-llama/Llama-3.1-8B-Instruct")
    g = kv.geometry(m, range(m.num_layers), tp=tp, block=16, kv_bytes=kv_dtype, hybrid_manager=True)
    assert g.bytes_per_token == expected


def test_mla_cache_is_one_latent_per_layer_not_split_by_tp() -> None:
    m = facts("deepseek-ai/DeepSeek-V3")
    for tp in (1, 8):
        g = kv.geometry(m, range(m.num_layers), tp=tp, block=64, kv_bytes=2, hybrid_manager=True)
        assert g.bytes_per_token == 61 * (512 + 64) * 2  # 70,272 B


def test_gemma3_hybrid_groups_and_admission() -> None:
    # Gemma-3-27B: 62 layers, every 6th global -> 10 full, 52 sliding (window 1024).
    # Group size = 10 (52 >= 1.25 * 10), so 1 full group + ceil(52/10) = 6 sliding groups.
    m = facts("google/gemma-3-27b-it")
    assert m.layer_kinds.count("full") == 10 and m.sliding_window == 1024
    g = kv.geometry(m, range(62), tp=1, block=16, kv_bytes=2, hybrid_manager=True)
    assert dict(g.groups) == {"full": 1, "sliding": 6}
    assert g.bytes_per_block == 10 * 2 * 16 * 16 * 128 * 2  # 10 layers' pages
    # 8192-token requests with 8192 batched tokens: sliding span = min(1023 + 8192, 8192).
    assert kv.blocks_per_request(g, m, 8192, 8192) == 7 * 512
    # With a small prefill budget the window saves memory: 1023 + 512 -> 96 blocks.
    assert kv.blocks_per_request(g, m, 8192, 512) == 512 + 6 * 96


def test_block_rounding_and_capacity() -> None:
    m = facts("meta-llama/Llama-3.1-8B-Instruct")
    g = kv.geometry(m, range(32), tp=1, block=16, kv_bytes=2, hybrid_manager=True)
    cap = kv.capacity(g, m, 1 * GIB + 5, max_model_len=4096, max_num_batched_tokens=4096)
    # 1 GiB / (131,072 B × 16) = 512 blocks exactly; the 5 spare bytes buy nothing.
    assert cap.num_blocks == 512 and cap.tokens == 8192
    assert cap.max_concurrency == pytest.approx(512 / 256)


def test_llama_8b_parameter_count_and_tp_sharding() -> None:
    m = facts("meta-llama/Llama-3.1-8B-Instruct")
    # Published: 8.03B parameters. By hand: embeddings and LM head 2 × 128256 × 4096,
    # per layer q/o 2 × 4096² + k/v 2 × 4096 × 1024 + MLP 3 × 4096 × 14336 + 2 norms.
    per_layer = 2 * 4096**2 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096
    expected = 2 * 128256 * 4096 + 32 * per_layer + 4096
    (one,) = stage_weights(m, tp=1, pp=1, quant=None, served_dtype_bytes=2, version=V)
    assert one.params_per_gpu == pytest.approx(expected)
    rotary = 131072 * 128 * 2
    assert one.bytes_per_gpu == pytest.approx(expected * 2 + rotary)
    four = stage_weights(m, tp=4, pp=1, quant=None, served_dtype_bytes=2, version=V)[0]
    # Everything but the norms splits 4 ways.
    assert four.params_per_gpu == pytest.approx((expected - 65 * 4096) / 4 + 65 * 4096)


def test_fp8_checkpoint_keeps_embeddings_in_bf16() -> None:
    m = facts("RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic")
    assert m.quant is not None and m.quant.method == "fp8"
    (w,) = stage_weights(m, tp=1, pp=1, quant=m.quant, served_dtype_bytes=2, version=V)
    embed_and_head = 2 * 128256 * 8192
    linear = 80 * (2 * 8192**2 + 2 * 8192 * 1024 + 3 * 8192 * 28672)
    norms = 80 * 2 * 8192 + 8192
    rotary = 131072 * 128 * 2
    assert w.bytes_per_gpu == pytest.approx(
        (embed_and_head + norms) * 2 + linear + rotary, rel=1e-6
    )


def test_awq_int4_group_scales_are_counted() -> None:
    m = facts("Qwen/Qwen2.5-7B-Instruct-AWQ")
    assert m.quant is not None and m.quant.method == "awq" and m.quant.group_size == 128
    from llmpod.planner.weights import quant_bytes_per_param

    # 4 bits + an fp16 scale and a 4-bit zero point per 128 weights.
    assert quant_bytes_per_param(m.quant, 2) == pytest.approx(0.5 + 2.5 / 128)


@pytest.mark.parametrize(
    ("version", "tp", "logged"),
    [
        ("0.11.0", 1, 7.38),  # LLMD-DOC-63: H100, max-num-batched-tokens 8192
        ("0.19.0", 2, 2.87),  # LLMD-40
    ],
)
def test_gpt_oss_activation_peak_matches_vllms_log(version: str, tp: int, logged: float) -> None:
    """MXFP4 experts add no fused-MoE workspace over the sampler peak (issue 20, item 7)."""
    from llmpod.planner import memory
    from llmpod.planner.versions import profile_for

    m = parse_model_config(find("openai/gpt-oss-20b").config, name="gpt-oss-20b")
    peak = memory.activation_gib(
        m,
        tp=tp,
        last_stage=True,
        max_num_seqs=1024,
        max_num_batched_tokens=8192,
        profile=profile_for(version),
    )
    assert abs(peak - logged) < 0.1
