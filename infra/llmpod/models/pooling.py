"""Which architectures vLLM serves as pooling models (embeddings, scores), not chat.

From vLLM 0.32's model registry (vllm/model_executor/models/registry.py,
``_EMBEDDING_MODELS`` and ``_SEQUENCE_CLASSIFICATION_MODELS``): with
``--runner auto`` vLLM resolves these to ``--runner pooling``
(``ModelConfig._get_default_runner_type`` in vllm/config/model.py).

Encoder-only ones (BERT, RoBERTa, XLM-RoBERTa and their rope variants) attend
bidirectionally through ``EncoderOnlyAttention``, whose ``get_kv_cache_spec``
returns None: the engine then allocates no KV cache at all and skips the memory
profile (``has_kv_cache`` in vllm/v1/engine/core.py, 0.32). Decoder-based
embedding models (``Qwen2Model``, ``LlamaModel``, ...) keep a KV cache.
"""

from __future__ import annotations

from typing import Literal

PoolingTask = Literal["embed", "classify"]

#: Encoder-only embedding architectures (no KV cache).
ENCODER_EMBED = frozenset(
    {
        "BertModel",
        "BgeM3EmbeddingModel",
        "GteModel",
        "GteNewModel",
        "ModernBertModel",
        "NomicBertModel",
        "RobertaModel",
        "XLMRobertaModel",
    }
)
#: Encoder-only cross-encoders / rerankers, served on /score and /rerank.
ENCODER_CLASSIFY = frozenset(
    {
        "BertForSequenceClassification",
        "GteNewForSequenceClassification",
        "ModernBertForSequenceClassification",
        "RobertaForSequenceClassification",
        "XLMRobertaForSequenceClassification",
    }
)
#: Decoder-based embedding architectures (a causal KV cache is still allocated).
DECODER_EMBED = frozenset(
    {"Gemma2Model", "Gemma3TextModel", "LlamaModel", "MistralModel", "Qwen2Model"}
)


def pooling_task(architecture: str) -> tuple[PoolingTask | None, bool]:
    """(the pooling task or None for a generative model, whether it is encoder-only)."""
    if architecture in ENCODER_EMBED:
        return "embed", True
    if architecture in ENCODER_CLASSIFY:
        return "classify", True
    if architecture in DECODER_EMBED:
        return "embed", False
    return None, False
