"""`llmpod plan` flags → PlanRequest: the command-line twin of ``planning.request_for``.

The engine-option flags are generated from ``VllmOptions`` (one flag per field,
help from its docstring, shape from its type), so the CLI and the stack spec
cannot drift apart; the rest describe the model, the GPUs and the targets.
Used by `llmpod plan` and by `llmpod diagnose --model` (its "current spec"), so
both plan exactly what a stack with the same values would. Flag names are the
CLI contract of DESIGN.md: keep them stable.
"""

from __future__ import annotations

import argparse
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import ValidationError

from llmpod.errors import LlmpodError
from llmpod.planner.request import PlanRequest, Targets
from llmpod.spec.vllm_options import Dtype, KvCacheDtype, VllmOptions

#: Spellings `vllm serve --dtype` also accepts, mapped to the spec's names.
DTYPE_ALIASES = {"half": "float16", "fp16": "float16", "bf16": "bfloat16"}


def _whole_number(text: str) -> int:
    try:
        return int(text.lower().replace("k", "000")) if text.lower().endswith("k") else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _without_none(annotation: Any) -> Any:
    """``Annotated[int, Field(ge=1)] | None`` → ``int``: the type argparse parses."""
    if get_origin(annotation) in (Union, UnionType):
        rest = [a for a in get_args(annotation) if a is not NoneType]
        if len(rest) == 1:
            return _without_none(rest[0])
    if get_origin(annotation) is Annotated:
        return get_args(annotation)[0]
    return annotation


def add_vllm_option_flags(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """One flag per VllmOptions field, shaped by its type (as vLLM's arg_utils does)."""
    for name, info in VllmOptions.model_fields.items():
        flag = "--" + name.replace("_", "-")
        kind = _without_none(info.annotation)
        optional = NoneType in get_args(info.annotation)
        kwargs: dict[str, Any] = {"dest": name, "help": info.description}
        if kind is bool and optional:
            kwargs.update(action=argparse.BooleanOptionalAction, default=None)
        elif kind is bool:
            kwargs.update(action="store_true")
        elif get_origin(kind) is Literal:
            kwargs.update(choices=list(get_args(kind)))
        elif kind is int:
            kwargs.update(type=_whole_number)  # ranges: VllmOptions' own constraints
        elif kind is float:
            kwargs.update(type=float)
        else:
            kwargs.update(type=str)
        p.add_argument(flag, **kwargs)


def add_plan_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        required=True,
        help="catalog name, hf://org/name[@rev], s3://bucket/prefix or config.json path",
    )
    p.add_argument(
        "--gpu",
        required=True,
        action="append",
        help="GPU type (H100, H100-PCIE, H200, B200, A100-80GB, A100-40GB, L40S, L4, "
        "A10G, RTX-4090, RTX-3090, MI300X); repeat for an ordered preference",
    )
    p.add_argument("--tp", type=_positive_int, help="evaluate this tensor parallel size")
    p.add_argument("--pp", type=_positive_int, help="evaluate this pipeline parallel size")
    p.add_argument("--max-model-len", type=_positive_int)
    p.add_argument("--kv-cache-dtype", default="auto", choices=list(get_args(KvCacheDtype)))
    p.add_argument("--dtype", default="auto", choices=[*get_args(Dtype), *DTYPE_ALIASES])
    p.add_argument("--quantization", help="awq, gptq, fp8, compressed-tensors, bitsandbytes, …")
    p.add_argument("--vllm-version", help="vLLM version whose defaults and accounting to use")
    p.add_argument(
        "--concurrency",
        type=_positive_int,
        default=1,
        help="simultaneous full-context requests to hold (sets replicas)",
    )
    add_vllm_option_flags(p.add_argument_group("vLLM engine options (the spec's vllm: section)"))
    p.add_argument("--max-gpus", type=_positive_int, default=64, help="per replica")
    p.add_argument("--max-nodes", type=_positive_int, default=4, help="per replica")
    p.add_argument(
        "--ttft-ms", type=_positive_float, help="target time to first token (512-token prompt)"
    )
    p.add_argument(
        "--load-bandwidth-mb-s",
        type=_positive_float,
        default=400.0,
        help="weights volume read bandwidth (MiB/s) for the startup estimate",
    )
    p.add_argument("--json", action="store_true", help="print the plan as one JSON object")


def vllm_options_from_args(ns: argparse.Namespace) -> VllmOptions:
    given = {
        name: getattr(ns, name)
        for name in VllmOptions.model_fields
        if getattr(ns, name, None) is not None
    }
    try:
        return VllmOptions.model_validate(given)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "?"
            flag = "--" + name.replace("_", "-")
            problems.append(
                f"{flag} {str(err.get('input'))[:40]!r}: "
                f"{str(err['msg']).removeprefix('Value error, ')}"
            )
        raise LlmpodError(
            code="bad_flag",
            message="; ".join(problems) + ".",
            suggestions=["`llmpod plan --help` gives each flag's range"],
        ) from None


def request_from_args(ns: argparse.Namespace) -> PlanRequest:
    from llmpod.gpus.catalog import find_gpu
    from llmpod.models.resolve import resolve_model
    from llmpod.planner.quantization import online_quantization
    from llmpod.planner.versions import DEFAULT_VLLM_VERSION, parse_version

    options = vllm_options_from_args(ns)
    model = resolve_model(ns.model)
    gpus = tuple(dict.fromkeys(find_gpu(g) for g in ns.gpu))
    version = ns.vllm_version or DEFAULT_VLLM_VERSION
    parse_version(version)
    return PlanRequest(
        model=model.facts,
        gpus=gpus,
        model_path=model.container_path,
        served_model_name=model.served_name,
        tp=ns.tp,
        pp=ns.pp,
        vllm=options,
        max_model_len=ns.max_model_len,
        kv_cache_dtype=ns.kv_cache_dtype,
        dtype=DTYPE_ALIASES.get(ns.dtype, ns.dtype),
        online_quantization=online_quantization(ns.quantization, model.facts),
        vllm_version=version,
        max_gpus_per_replica=ns.max_gpus,
        max_nodes_per_replica=ns.max_nodes,
        targets=Targets(
            concurrency=ns.concurrency, ttft_s=ns.ttft_ms / 1000 if ns.ttft_ms else None
        ),
        revision=model.raw.revision if model.raw.origin == "hf" else None,
        weights_read_mb_s=ns.load_bandwidth_mb_s,
    )
