"""Architecture facts the planner needs, as vLLM reads them from config.json.

These are plain frozen dataclasses: the planner is pure arithmetic over them.
``llmpod.models.config`` builds them from a raw config dict; nothing else should.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

LayerKind = Literal["full", "sliding"]


@dataclass(frozen=True)
class MoEFacts:
    num_experts: int
    experts_per_token: int
    expert_intermediate_size: int
    #: Shared (always-on) experts, counted as one fused MLP of this width.
    shared_intermediate_size: int = 0
    #: Leading layers that keep a dense MLP (DeepSeek ``first_k_dense_replace``).
    dense_layers: tuple[int, ...] = ()


@dataclass(frozen=True)
class MLAFacts:
    """DeepSeek-style multi-head latent attention."""

    kv_lora_rank: int
    q_lora_rank: int | None
    qk_rope_head_dim: int
    qk_nope_head_dim: int
    v_head_dim: int

    @property
    def cache_width(self) -> int:
        # vLLM caches the compressed latent plus the rope part, once per layer,
        # not per head and not split by TP (vllm/v1/kv_cache_interface.py MLAAttentionSpec).
        return self.kv_lora_rank + self.qk_rope_head_dim


QuantMethod = Literal[
    "fp8",
    "fp8-block",
    "int8",
    "awq",
    "gptq",
    "w4a16",
    "bitsandbytes-4bit",
    "bitsandbytes-8bit",
    "mxfp4",
    "nvfp4",
]


@dataclass(frozen=True)
class QuantFacts:
    """How the checkpoint's linear weights are stored."""

    method: QuantMethod
    #: vLLM's ``--quantization`` value for this checkpoint (None = detected from config).
    vllm_name: str
    weight_bits: float
    #: Elements per scale group along the input dim (None = per-channel/tensor).
    group_size: int | None = None
    #: (block_n, block_k) for block-wise fp8 checkpoints.
    block: tuple[int, int] | None = None
    #: Whether the MoE expert weights are quantized too (gpt-oss: only experts are).
    experts_only: bool = False
    #: KV cache stored as fp8 by the checkpoint's own scheme (llm-compressor kv_cache_scheme).
    kv_cache_fp8: bool = False
    #: Activations quantized too (w8a8 / fp8 dynamic): needs a GPU with that math.
    activations: Literal["none", "int8", "fp8"] = "none"


@dataclass(frozen=True)
class ModelFacts:
    name: str
    architecture: str
    model_type: str
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    tie_word_embeddings: bool
    #: max_model_len vLLM derives when none is given (vllm/config/model.py _get_and_verify_max_len).
    max_model_len: int
    dtype: Literal["bfloat16", "float16", "float32"]
    layer_kinds: tuple[LayerKind, ...]
    sliding_window: int | None = None
    moe: MoEFacts | None = None
    mla: MLAFacts | None = None
    quant: QuantFacts | None = None
    #: Gated MLPs (SwiGLU/GeGLU) have three matrices; GPT-style MLPs two.
    mlp_matrices: int = 3
    attention_bias: bool = False
    #: Parameters outside the language model (vision tower and projector).
    extra_params: int = 0
    #: Rotary dim cached per position (vLLM keeps a cos/sin cache of max_pos × rotary_dim).
    rotary_dim: int = 0
    max_position_embeddings: int = 0
    supports_pp: bool = True
    #: Multi-token-prediction layers shipped with the checkpoint (DeepSeek-V3,
    #: GLM-4.5: ``num_nextn_predict_layers``), which ``--speculative-config
    #: {"method": "mtp"}`` loads as the draft.
    mtp_layers: int = 0
    #: Served by vLLM's pooling runner (embeddings / scores), not generation.
    pooling: Literal["embed", "classify"] | None = None
    #: Bidirectional encoder (BERT family): vLLM allocates no KV cache for it.
    encoder_only: bool = False
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_moe(self) -> bool:
        return self.moe is not None

    @property
    def is_hybrid(self) -> bool:
        return "sliding" in self.layer_kinds and "full" in self.layer_kinds

    @property
    def dtype_bytes(self) -> int:
        return 4 if self.dtype == "float32" else 2

    @property
    def padded_vocab(self) -> int:
        # vllm/model_executor/layers/vocab_parallel_embedding.py pads to a multiple of 64.
        return -(-self.vocab_size // 64) * 64
