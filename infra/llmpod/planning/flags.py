"""`llmpod plan` flags → a one-service ServingSpec → ``request_for``'s PlanRequest.

The flags do not build a PlanRequest of their own: they fill in a ServingSpec, which
validates them and supplies every default, and ``planning.service.request_for`` (the one
request builder, also used for stack files) turns it into the request. So `llmpod plan
FLAGS` and a stack service with the same values plan byte-identically, with the same
defaults (16 GPUs, 2 nodes, 1-4 replicas) and the same errors (exit 1 for bad input).
What only the command line has: ``--tp``/``--pp`` (evaluate one layout) and, from an
``hf://org/name[@rev]`` model reference, the revision (``main`` when none is given),
as a stack's ``revision:`` key would pin it.

The engine-option flags are generated from ``VllmOptions`` (one flag per field,
help from its docstring, shape from its type). Used by `llmpod plan` and by `llmpod
diagnose --model` (its "current spec"). Flag names are the CLI contract of DESIGN.md:
keep them stable.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from llmpod.errors import LlmpodError
from llmpod.models.quant_config import QUANTIZATIONS
from llmpod.planner.request import PlanRequest
from llmpod.spec.service import GpuChoice, Replicas, ServingSpec, Targets, Weights
from llmpod.spec.vllm_options import Dtype, KvCacheDtype, VllmOptions

#: The one service a `llmpod plan` command describes (the name is not planned on).
SERVICE_NAME = "plan"

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


def _list_item(annotation: Any) -> Any:
    """``list[LoraAdapter]`` → ``LoraAdapter`` (None for any other type)."""
    return get_args(annotation)[0] if get_origin(annotation) is list else None


def _flag_item(item: Any) -> Any:
    """argparse's ``type`` for one repeated value of a list of sections: the section's
    own ``from_flag`` reads the text (its fields are validated with the spec's)."""

    def parse(text: str) -> dict[str, object]:
        try:
            result: dict[str, object] = item.from_flag(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return result

    return parse


def option_flag(name: str) -> str:
    """The flag of a VllmOptions field: its name in kebab case, singular for a list
    (one value per repetition: --adapter A --adapter B fills ``adapters``)."""
    if _list_item(VllmOptions.model_fields[name].annotation) is not None:
        name = name.removesuffix("s")
    return "--" + name.replace("_", "-")


def add_vllm_option_flags(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """One flag per VllmOptions field, shaped by its type (as vLLM's arg_utils does)."""
    for name, info in VllmOptions.model_fields.items():
        flag = option_flag(name)
        kind = _without_none(info.annotation)
        optional = NoneType in get_args(info.annotation)
        kwargs: dict[str, Any] = {"dest": name, "help": info.description}
        item = _list_item(kind)
        if item is not None:
            # A list of sections, one NAME=...-style value per repetition.
            kwargs.update(action="append", type=_flag_item(item), metavar=item.FLAG_FORM)
        elif kind is bool and optional:
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
        "A10G, RTX-4090, RTX-3090, MI300X); repeat to accept several: the cheapest one that "
        "meets the targets wins, and the order given only breaks ties",
    )
    p.add_argument("--tp", type=_positive_int, help="evaluate this tensor parallel size")
    p.add_argument("--pp", type=_positive_int, help="evaluate this pipeline parallel size")
    p.add_argument("--max-model-len", type=_positive_int)
    p.add_argument("--kv-cache-dtype", default="auto", choices=list(get_args(KvCacheDtype)))
    p.add_argument("--dtype", default="auto", choices=[*get_args(Dtype), *DTYPE_ALIASES])
    p.add_argument("--quantization", help=f"one of {', '.join(QUANTIZATIONS)}")
    p.add_argument("--vllm-version", help="vLLM version whose defaults and accounting to use")
    traffic = p.add_argument_group(
        "traffic (the spec's workload: section): size replicas for the load you expect"
    )
    traffic.add_argument("--input-len", type=_positive_int, help="prompt tokens per request (mean)")
    traffic.add_argument(
        "--output-len", type=_positive_int, help="generated tokens per request (mean)"
    )
    load = traffic.add_mutually_exclusive_group()
    load.add_argument(
        "--concurrency", type=_positive_int, help="requests in flight at once (users waiting)"
    )
    load.add_argument("--rate", type=_positive_float, help="or requests arriving per second")
    traffic.add_argument(
        "--prefix-hit",
        type=float,
        help="share of prompt tokens served from the prefix cache (0-1, default 0)",
    )
    traffic.add_argument(
        "--ttft-p95-ms", type=_positive_float, help="95th-percentile time to first token target"
    )
    traffic.add_argument(
        "--itl-p95-ms", type=_positive_float, help="95th-percentile inter-token latency target"
    )
    p.add_argument(
        "--full-context-concurrency",
        type=_positive_int,
        help="worst-case sizing: simultaneous requests at the full context to hold "
        f"(default {_default(Targets, 'concurrency')})",
    )
    p.add_argument("--kv-tokens", type=_positive_int, help="or a KV-cache token budget")
    p.add_argument(
        "--ttft-ms", type=_positive_float, help="target time to first token (512-token prompt)"
    )
    p.add_argument(
        "--inter-token-latency-ms",
        type=_positive_float,
        help="target time between output tokens at concurrency 1",
    )
    p.add_argument(
        "--throughput-tokens-per-s",
        type=_positive_float,
        help="target aggregate output tokens per second across replicas",
    )
    add_vllm_option_flags(p.add_argument_group("vLLM engine options (the spec's vllm: section)"))
    p.add_argument(
        "--max-gpus",
        type=_positive_int,
        help=f"per replica (default {_default(GpuChoice, 'max_per_replica')})",
    )
    p.add_argument(
        "--max-nodes",
        type=_positive_int,
        help=f"per replica (default {_default(GpuChoice, 'max_nodes')})",
    )
    p.add_argument(
        "--min-replicas",
        type=_whole_number,
        help=f"replica floor (default {_default(Replicas, 'min')})",
    )
    p.add_argument(
        "--max-replicas",
        type=_positive_int,
        help=f"replica ceiling (default {_default(Replicas, 'max')})",
    )
    p.add_argument(
        "--load-bandwidth-mb-s",
        type=_positive_float,
        help="weights volume read bandwidth (MiB/s) for the startup estimate (default "
        f"{_default(Weights, 'load_bandwidth_mb_s')})",
    )
    p.add_argument("--json", action="store_true", help="print the plan as one JSON object")


def _default(model: type[BaseModel], field: str) -> object:
    """The spec's default, quoted in --help (the spec supplies it; the flag has none)."""
    return model.model_fields[field].default


#: Spec field path → the flag that sets it (for error messages); vllm.* fields are
#: their own flag names.
_FLAG_FOR: dict[tuple[str, ...], str] = {
    ("model",): "--model",
    ("dtype",): "--dtype",
    ("quantization",): "--quantization",
    ("kv_cache_dtype",): "--kv-cache-dtype",
    ("max_model_len",): "--max-model-len",
    ("revision",): "--model",
    ("targets", "concurrency"): "--full-context-concurrency",
    ("targets", "ttft_p95_ms"): "--ttft-p95-ms",
    ("targets", "itl_p95_ms"): "--itl-p95-ms",
    ("workload",): "--input-len/--output-len with --concurrency or --rate",
    ("workload", "input_tokens"): "--input-len",
    ("workload", "output_tokens"): "--output-len",
    ("workload", "concurrency"): "--concurrency",
    ("workload", "rate_per_s"): "--rate",
    ("workload", "prefix_hit"): "--prefix-hit",
    ("targets", "kv_tokens"): "--kv-tokens",
    ("targets", "ttft_ms"): "--ttft-ms",
    ("targets", "inter_token_latency_ms"): "--inter-token-latency-ms",
    ("targets", "throughput_tokens_per_s"): "--throughput-tokens-per-s",
    ("gpus", "types"): "--gpu",
    ("gpus", "max_per_replica"): "--max-gpus",
    ("gpus", "max_nodes"): "--max-nodes",
    ("replicas",): "--min-replicas/--max-replicas",
    ("replicas", "min"): "--min-replicas",
    ("replicas", "max"): "--max-replicas",
    ("weights", "load_bandwidth_mb_s"): "--load-bandwidth-mb-s",
    ("image", "vllm_version"): "--vllm-version",
}


def _flag(loc: tuple[int | str, ...]) -> str:
    names = tuple(str(part) for part in loc if not isinstance(part, int))
    if names[:1] == ("vllm",) and len(names) > 1 and names[1] in VllmOptions.model_fields:
        return option_flag(names[1])
    while names and names not in _FLAG_FOR:
        names = names[:-1]
    return _FLAG_FOR.get(names, "a flag")


def _given(ns: argparse.Namespace, **fields: str) -> dict[str, Any]:
    """{spec field: flag value} for the flags given (the rest keep the spec's default)."""
    return {k: getattr(ns, v) for k, v in fields.items() if getattr(ns, v, None) is not None}


def _as_flag(match: re.Match[str]) -> str:
    word = match.group(0)
    return option_flag(word) if word in VllmOptions.model_fields else word


def spec_from_args(ns: argparse.Namespace) -> ServingSpec:
    """The one-service spec the flags describe, validated by the spec itself."""
    data: dict[str, Any] = {
        "name": SERVICE_NAME,
        "model": ns.model,
        "dtype": DTYPE_ALIASES.get(ns.dtype, ns.dtype),
        "kv_cache_dtype": ns.kv_cache_dtype,
        "gpus": {
            "types": list(ns.gpu),
            **_given(ns, max_per_replica="max_gpus", max_nodes="max_nodes"),
        },
        "targets": _given(
            ns,
            concurrency="full_context_concurrency",
            ttft_p95_ms="ttft_p95_ms",
            itl_p95_ms="itl_p95_ms",
            kv_tokens="kv_tokens",
            ttft_ms="ttft_ms",
            inter_token_latency_ms="inter_token_latency_ms",
            throughput_tokens_per_s="throughput_tokens_per_s",
        ),
        "replicas": _given(ns, min="min_replicas", max="max_replicas"),
        "weights": _given(ns, load_bandwidth_mb_s="load_bandwidth_mb_s"),
        "image": _given(ns, vllm_version="vllm_version"),
        "vllm": {
            name: getattr(ns, name)
            for name in VllmOptions.model_fields
            if getattr(ns, name, None) is not None
        },
        **_given(ns, quantization="quantization", max_model_len="max_model_len"),
    }
    workload = _given(
        ns,
        input_tokens="input_len",
        output_tokens="output_len",
        concurrency="concurrency",
        rate_per_s="rate",
        prefix_hit="prefix_hit",
    )
    if workload:
        data["workload"] = workload
    try:
        return ServingSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            value = err.get("input")
            # A list or section is not what the user typed: the message names the value.
            shown = "" if isinstance(value, list | dict) else f" {str(value)[:40]!r}"
            msg = str(err["msg"]).removeprefix("Value error, ").rstrip(".")
            if tuple(err["loc"]) == ("vllm",):
                # A rule across engine options names fields; a command line says flags.
                problems.append(re.sub(r"\b[a-z]+(?:_[a-z]+)+\b", _as_flag, msg))
                continue
            problems.append(f"{_flag(tuple(err['loc']))}{shown}: {msg}")
        raise LlmpodError(
            code="bad_flag",
            message="; ".join(problems) + ".",
            suggestions=["`llmpod plan --help` gives each flag's range"],
        ) from None


def request_from_args(ns: argparse.Namespace) -> PlanRequest:
    """``request_for`` of the flags' spec, plus the layout ``--tp``/``--pp`` ask for."""
    from llmpod.models.resolve import resolve_model
    from llmpod.planning.service import request_for

    spec = spec_from_args(ns)
    model = resolve_model(spec.model)
    if model.raw.origin == "hf" and spec.revision is None:
        # hf://org/name@rev pins rev (main when none): what a stack's revision: key does.
        spec = ServingSpec.model_validate({**spec.model_dump(), "revision": model.raw.revision})
    return dataclasses.replace(request_for(spec, model), tp=ns.tp, pp=ns.pp)
