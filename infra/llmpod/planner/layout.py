"""vLLM's shape rules for tensor, pipeline and expert parallelism.

Each check mirrors an assertion vLLM makes at load time (v0.32/0.33 paths):
- heads % TP: vllm/config/model.py verify_with_parallel_config;
- KV heads vs TP: QKVParallelLinear in vllm/model_executor/layers/linear.py
  (partition when kv ≥ TP, replicate when TP > kv; either way one must divide
  the other);
- padded vocab % TP: vocab_parallel_embedding.py (pad to 64, then divide);
- MoE expert FFN % TP unless expert parallel: fused_moe/config.py;
- fp8 block and int4 group shapes per shard: quantization/utils/fp8_utils.py,
  vllm/distributed/utils.py verify_group_size_divides_partition;
- PP: no divisibility, layers split by get_pp_indices (vllm/distributed/utils.py).
A check returns the violated rule as a sentence, or None.
"""

from __future__ import annotations

from llmpod.models.facts import ModelFacts, QuantFacts


def tp_violation(
    m: ModelFacts, tp: int, *, expert_parallel: bool = False, quant: QuantFacts | None = None
) -> str | None:
    if m.num_attention_heads % tp:
        return (
            f"{m.num_attention_heads} attention heads are not divisible by tensor parallel "
            f"size {tp}"
        )
    if m.mla is None and m.num_kv_heads % tp and tp % m.num_kv_heads:
        return (
            f"{m.num_kv_heads} KV heads and tensor parallel size {tp}: neither divides the "
            f"other, so vLLM can neither shard nor replicate them"
        )
    if m.padded_vocab % tp:
        return f"the padded vocabulary ({m.padded_vocab}) is not divisible by {tp}"
    dense_sizes = [m.intermediate_size] if (m.moe is None or m.moe.dense_layers) else []
    for size in dense_sizes:
        if size % tp:
            return f"the MLP width {size} is not divisible by tensor parallel size {tp}"
    if m.moe is not None and not expert_parallel and m.moe.expert_intermediate_size % tp:
        return (
            f"the expert MLP width {m.moe.expert_intermediate_size} is not divisible by "
            f"tensor parallel size {tp} (enable expert parallelism to shard whole experts)"
        )
    q = quant or m.quant
    if q is not None and tp > 1:
        return _quant_shard_violation(m, tp, q, expert_parallel)
    return None


def _quant_shard_violation(
    m: ModelFacts, tp: int, q: QuantFacts, expert_parallel: bool
) -> str | None:
    shards: list[tuple[str, int]] = []
    if m.moe is None or m.moe.dense_layers:
        shards.append(("MLP", m.intermediate_size // tp))
    if m.moe is not None and not expert_parallel:
        shards.append(("expert MLP", m.moe.expert_intermediate_size // tp))
    shards.append(("attention output", m.num_attention_heads * m.head_dim // tp))
    if q.block is not None:
        block_n, block_k = q.block
        for what, size in shards:
            if size % block_n or size % block_k:
                return (
                    f"the {what} shard ({size}) is not divisible by the checkpoint's fp8 "
                    f"block size {block_n}×{block_k} at tensor parallel size {tp}"
                )
    if q.group_size and not q.experts_only:
        for what, size in shards:
            if size % q.group_size:
                return (
                    f"the {what} shard ({size}) is not a whole number of "
                    f"{q.group_size}-element quantization groups at tensor parallel size {tp}"
                )
    return None


def pp_violation(m: ModelFacts, pp: int) -> str | None:
    if pp > m.num_layers:
        return f"pipeline parallel size {pp} exceeds the model's {m.num_layers} layers"
    if pp > 1 and not m.supports_pp:
        return f"{m.architecture} does not implement pipeline parallelism in vLLM"
    return None


def pp_partition(num_layers: int, pp: int) -> list[int]:
    """Layers per stage as vLLM splits them: the remainder goes to the inner stages first."""
    base = num_layers // pp
    parts = [base] * pp
    for i in range(2, num_layers % pp + 2):
        parts[-i] += 1
    return parts


def stage_layer_ranges(num_layers: int, pp: int) -> list[range]:
    ranges, start = [], 0
    for n in pp_partition(num_layers, pp):
        ranges.append(range(start, start + n))
        start += n
    return ranges


def kv_heads_per_gpu(m: ModelFacts, tp: int) -> int:
    """vllm/config/model.py get_num_kv_heads: MLA caches one latent; GQA shards or replicates."""
    if m.mla is not None:
        return 1
    return max(1, m.num_kv_heads // tp)


def valid_tp_sizes(m: ModelFacts, limit: int, *, expert_parallel: bool = False) -> list[int]:
    return [
        tp
        for tp in range(1, limit + 1)
        if tp_violation(m, tp, expert_parallel=expert_parallel) is None
    ]
