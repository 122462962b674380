"""`llmpod plan`: one model on one (or a preference list of) GPU type(s)."""

from __future__ import annotations

import argparse
import json
import sys

from infra.cli.plan_args import add_plan_arguments as add_arguments
from infra.errors import LlmpodError
from infra.gpus.catalog import find_gpu
from infra.models.resolve import resolve_model
from infra.planner.api import make_plan
from infra.planner.quantization import online_quantization
from infra.planner.request import PlanRequest, Targets
from infra.planner.versions import DEFAULT_VLLM_VERSION, parse_version

COMMAND = ("plan", "size one model on a GPU type: layout, memory, vLLM flags, cost")
__all__ = ["COMMAND", "add_arguments", "request_from_args", "run"]

_DTYPES = {"half": "float16", "fp16": "float16", "bf16": "bfloat16"}


def request_from_args(ns: argparse.Namespace) -> PlanRequest:
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
        gpu_memory_utilization=ns.gpu_memory_utilization,
        max_model_len=ns.max_model_len,
        kv_cache_dtype=ns.kv_cache_dtype,
        dtype=_DTYPES.get(ns.dtype, ns.dtype),
        online_quantization=online_quantization(ns.quantization, model.facts),
        vllm_version=version,
        max_num_seqs=ns.max_num_seqs,
        max_num_batched_tokens=ns.max_num_batched_tokens,
        block_size=ns.block_size,
        enforce_eager=ns.enforce_eager,
        expert_parallel=ns.expert_parallel,
        max_gpus_per_replica=ns.max_gpus,
        max_nodes_per_replica=ns.max_nodes,
        targets=Targets(concurrency=ns.concurrency,
                        ttft_s=ns.ttft_ms / 1000 if ns.ttft_ms else None),
        revision=model.raw.revision if model.raw.origin == "hf" else None,
        weights_read_mb_s=ns.load_bandwidth_mb_s,
    )


def run(ns: argparse.Namespace) -> int:
    try:
        plan = make_plan(request_from_args(ns))
    except LlmpodError as err:
        if ns.json:
            print(json.dumps({"feasible": False, "errors": [err.as_json()]}, indent=2))
            return 1
        raise
    if ns.json:
        print(json.dumps(plan.to_json(), indent=2))
    else:
        from infra.cli.plan_view import show

        show(plan, sys.stdout)
    return 0 if plan.feasible else 2
