"""Weight bytes per GPU, per pipeline stage, the way vLLM lays them out.

Parameter counts come from the architecture facts; bytes from the storage
format. What stays unquantized in every checkpoint format vLLM supports:
embeddings, the LM head, norms and MoE routers (and, for MXFP4/gpt-oss,
everything but the experts). The rotary cos/sin cache (max positions × rotary
dim, model dtype) is counted because vLLM's "Model loading took" includes it:
Llama-3.1-8B logs 14.99 GiB for 14.96 GiB of parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmpod.models.facts import ModelFacts, QuantFacts
from llmpod.planner.layout import kv_heads_per_gpu, stage_layer_ranges

GIB = 1024**3


def quant_bytes_per_param(q: QuantFacts | None, dtype_bytes: int) -> float:
    """Stored bytes per weight of a quantized Linear, scales and zero points included."""
    if q is None:
        return float(dtype_bytes)
    if q.method in ("fp8", "int8"):
        return 1.0  # per-tensor / per-channel scales are negligible
    if q.method == "fp8-block":
        bn, bk = q.block or (128, 128)
        return 1.0 + 4.0 / (bn * bk)
    if q.method == "awq":
        # packed int4 + fp16 scale + packed 4-bit zero point per group
        return q.weight_bits / 8 + (2.0 + q.weight_bits / 8) / (q.group_size or 128)
    if q.method in ("gptq", "w4a16"):
        zeros = q.weight_bits / 8 if q.method == "gptq" else 0.0
        return q.weight_bits / 8 + (2.0 + zeros) / (q.group_size or 128)
    if q.method == "bitsandbytes-4bit":
        return 0.5 + 4.0 / 64  # NF4 + fp32 absmax per 64-block
    if q.method == "bitsandbytes-8bit":
        return 1.0
    if q.method == "mxfp4":
        return 0.5 + 1.0 / 32  # e8m0 scale per 32 values
    if q.method == "nvfp4":
        return 0.5 + 1.0 / 16  # fp8 scale per 16 values
    return float(dtype_bytes)


def _round_up(x: int, to: int) -> int:
    return -(-x // to) * to


@dataclass(frozen=True)
class StageWeights:
    bytes_per_gpu: float
    params_per_gpu: float

    @property
    def gib(self) -> float:
        return self.bytes_per_gpu / GIB


def _attention_params(m: ModelFacts, tp: int) -> tuple[float, float]:
    """(sharded-or-replicated params per GPU, unquantized extras) for one layer."""
    h = m.hidden_size
    if m.mla is not None:
        a = m.mla
        qk = a.qk_nope_head_dim + a.qk_rope_head_dim
        q = (
            h * a.q_lora_rank + a.q_lora_rank * m.num_attention_heads * qk / tp
            if a.q_lora_rank
            else h * m.num_attention_heads * qk / tp
        )
        kv_a = h * (a.kv_lora_rank + a.qk_rope_head_dim)  # replicated on every rank
        kv_b = a.kv_lora_rank * m.num_attention_heads * (a.qk_nope_head_dim + a.v_head_dim) / tp
        o = m.num_attention_heads * a.v_head_dim * h / tp
        return q + kv_a + kv_b + o, 0.0
    q_width = m.num_attention_heads * m.head_dim / tp
    kv_width = kv_heads_per_gpu(m, tp) * m.head_dim
    params = h * q_width + 2 * h * kv_width + q_width * h
    bias = (q_width + 2 * kv_width) if m.attention_bias else 0.0
    return params, bias


def _mlp_params(
    m: ModelFacts,
    layer: int,
    tp: int,
    ep: int,
    quant: QuantFacts | None,
    version: tuple[int, int, int],
) -> tuple[float, float, float]:
    """(dense-quantizable params, expert params, unquantized router params) per GPU."""
    h = m.hidden_size
    moe = m.moe
    if moe is None or layer in moe.dense_layers:
        return m.mlp_matrices * h * m.intermediate_size / tp, 0.0, 0.0
    inter = moe.expert_intermediate_size
    hidden = h
    experts_here = -(-moe.num_experts // ep) if ep > 1 else moe.num_experts
    shard_tp = 1 if ep > 1 else tp
    inter_shard = inter / shard_tp
    if quant is not None and quant.method == "mxfp4":
        # MXFP4 MoE kernels pad the expert dims to multiples of 256 (gpt-oss:
        # 2880 -> 3072); fit to gpt-oss-20b/120b load sizes in v0.11 and v0.19.
        inter_shard = _round_up(int(inter_shard), 256)
        if version >= (0, 12, 0):
            hidden = _round_up(h, 256)
    experts = experts_here * 3 * hidden * inter_shard
    shared = 3 * h * moe.shared_intermediate_size / tp
    router = h * moe.num_experts
    return shared, experts, router


def stage_weights(
    m: ModelFacts,
    *,
    tp: int,
    pp: int,
    ep: int = 1,
    quant: QuantFacts | None,
    served_dtype_bytes: int,
    version: tuple[int, int, int],
) -> list[StageWeights]:
    """Bytes each GPU of each pipeline stage holds after loading."""
    linear_b = quant_bytes_per_param(quant, served_dtype_bytes)
    experts_b = linear_b
    dense_b = linear_b
    if quant is not None and quant.experts_only:
        dense_b = float(served_dtype_bytes)
    embed = m.padded_vocab * m.hidden_size / tp
    rotary = m.max_position_embeddings * m.rotary_dim * served_dtype_bytes
    out: list[StageWeights] = []
    ranges = stage_layer_ranges(m.num_layers, pp)
    for i, layers in enumerate(ranges):
        first, last = i == 0, i == len(ranges) - 1
        raw = 0.0  # params stored in model dtype
        quantized_dense = 0.0
        quantized_experts = 0.0
        for layer in layers:
            attn, bias = _attention_params(m, tp)
            shared, experts, router = _mlp_params(m, layer, tp, ep, quant, version)
            quantized_dense += attn + shared
            quantized_experts += experts
            raw += bias + router + 2 * m.hidden_size  # two norms
        if first:
            raw += embed + m.extra_params / tp
        # A pooling model has no LM head: its last stage ends in a pooler.
        if last and m.pooling is None and (not m.tie_word_embeddings or pp > 1):
            raw += embed
        if last:
            raw += m.hidden_size
        total_bytes = (
            raw * served_dtype_bytes
            + quantized_dense * dense_b
            + quantized_experts * experts_b
            + rotary
        )
        out.append(StageWeights(total_bytes, raw + quantized_dense + quantized_experts))
    return out


def checkpoint_bytes(
    m: ModelFacts, quant: QuantFacts | None, served_dtype_bytes: int, version: tuple[int, int, int]
) -> float:
    """Unsharded weight bytes: what the shared weights volume must hold (≈ safetensors size)."""
    (stage,) = stage_weights(
        m, tp=1, pp=1, quant=quant, served_dtype_bytes=served_dtype_bytes, version=version
    )
    return stage.bytes_per_gpu
