"""KV-cache geometry: bytes per block, blocks, tokens and concurrency.

Mirrors vLLM's V1 KV-cache manager (vllm/v1/kv_cache_interface.py,
vllm/v1/core/kv_cache_utils.py, v0.19–0.33):
- a standard layer's page is 2 (K and V) × block × kv_heads_per_gpu × head_dim × bytes;
  MLA pages hold one latent (kv_lora_rank + rope dim) per token, not split by TP;
- uniform models: blocks = floor(memory / Σ pages), tokens = blocks × block size;
- hybrid models (sliding + full layers) share one pool: layers are grouped so
  each group has the same layer count (the smaller type's count, or the larger
  one when they are within 1.25×), one group's pages make a block, and a
  request needs blocks in every group: full groups for the whole context,
  sliding groups for min(window − 1 + max_num_batched_tokens, context).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

from llmpod.models.facts import ModelFacts
from llmpod.planner.layout import kv_heads_per_gpu


@dataclass(frozen=True)
class KvGeometry:
    block_size: int
    #: Bytes of one block across every KV "slot" of this stage (what one block costs).
    bytes_per_block: int
    #: Per-token bytes if every layer cached the full context (for reporting).
    bytes_per_token: int
    #: (kind, number of groups) — uniform models have one entry.
    groups: tuple[tuple[str, int], ...]


def kv_dtype_bytes(kv_cache_dtype: str, served_dtype_bytes: int) -> int:
    return 1 if kv_cache_dtype.startswith("fp8") else served_dtype_bytes


def page_bytes_per_layer(m: ModelFacts, tp: int, block: int, kv_bytes: int) -> int:
    if m.encoder_only:
        return 0  # EncoderOnlyAttention caches nothing (models/pooling.py)
    if m.mla is not None:
        return block * m.mla.cache_width * kv_bytes
    return 2 * block * kv_heads_per_gpu(m, tp) * m.head_dim * kv_bytes


def block_size_for(m: ModelFacts, compute_capability: str, requested: int | None) -> int:
    if requested:
        return requested
    if m.mla is not None and compute_capability.startswith("10"):
        return 128  # CUTLASS MLA on Blackwell
    if m.mla is not None and compute_capability.startswith("9"):
        return 64  # FlashMLA on Hopper
    return 16  # CacheConfig.DEFAULT_BLOCK_SIZE


def geometry(
    m: ModelFacts, layers: range, *, tp: int, block: int, kv_bytes: int, hybrid_manager: bool
) -> KvGeometry:
    page = page_bytes_per_layer(m, tp, block, kv_bytes)
    kinds = Counter(m.layer_kinds[i] for i in layers)
    per_token = page * len(layers) // block
    if len(kinds) == 1 or not hybrid_manager:
        kind = next(iter(kinds)) if hybrid_manager else "full"
        return KvGeometry(block, page * len(layers), per_token, ((kind, 1),))
    smallest, largest = min(kinds.values()), max(kinds.values())
    group_size = largest if largest < smallest * 1.25 else smallest
    groups = tuple(sorted((kind, math.ceil(n / group_size)) for kind, n in kinds.items()))
    return KvGeometry(block, page * group_size, per_token, groups)


def with_extra_layers(g: KvGeometry, bytes_per_token: int) -> KvGeometry:
    """``g`` with more full-attention layers paged in the same blocks (a draft
    model's or an EAGLE/MTP head's: vLLM allocates their pages with the target's)."""
    return replace(
        g,
        bytes_per_block=g.bytes_per_block + bytes_per_token * g.block_size,
        bytes_per_token=g.bytes_per_token + bytes_per_token,
    )


def blocks_per_request(
    g: KvGeometry, m: ModelFacts, max_model_len: int, max_num_batched_tokens: int
) -> int:
    need = 0
    for kind, count in g.groups:
        if kind == "sliding" and m.sliding_window:
            span = min(m.sliding_window - 1 + max_num_batched_tokens, max_model_len)
        else:
            span = max_model_len
        need += count * math.ceil(span / g.block_size)
    return need


@dataclass(frozen=True)
class KvCapacity:
    num_blocks: int
    tokens: int
    max_concurrency: float
    blocks_per_request: int


def capacity(
    g: KvGeometry,
    m: ModelFacts,
    kv_bytes_available: float,
    *,
    max_model_len: int,
    max_num_batched_tokens: int,
) -> KvCapacity:
    if not g.bytes_per_block:
        return KvCapacity(0, 0, 0.0, 0)
    blocks = max(0, int(kv_bytes_available // g.bytes_per_block))
    need = blocks_per_request(g, m, max_model_len, max_num_batched_tokens)
    concurrency = blocks / need if need else 0.0
    if len(g.groups) == 1 and g.groups[0][0] == "full":
        tokens = blocks * g.block_size
    else:
        # v0.33 logs group-aware tokens as max_concurrency × max_model_len.
        tokens = int(concurrency * max_model_len)
    return KvCapacity(blocks, tokens, concurrency, need)


def longest_context_that_fits(
    g: KvGeometry, m: ModelFacts, blocks: int, max_num_batched_tokens: int, upper: int
) -> int:
    """Largest max_model_len (multiple of the block size) one request can use."""
    lo, hi = 0, upper
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if blocks_per_request(g, m, mid, max_num_batched_tokens) <= blocks:
            lo = mid
        else:
            hi = mid - 1
    return lo - lo % g.block_size if lo >= g.block_size else lo
