"""Flags of `llmpod plan` (DESIGN.md "CLI contract"; keep them stable)."""

from __future__ import annotations

import argparse


def _positive_int(text: str) -> int:
    try:
        value = int(text.lower().replace("k", "000")) if text.lower().endswith("k") else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
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


def add_plan_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True,
                   help="catalog name, hf://org/name[@rev], s3://bucket/prefix or config.json path")
    p.add_argument("--gpu", required=True, action="append",
                   help="GPU type (H100, H100-PCIE, H200, B200, A100-80GB, A100-40GB, L40S, L4, "
                        "A10G, RTX-4090, RTX-3090, MI300X); repeat for an ordered preference")
    p.add_argument("--tp", type=_positive_int, help="evaluate this tensor parallel size")
    p.add_argument("--pp", type=_positive_int, help="evaluate this pipeline parallel size")
    p.add_argument("--gpu-memory-utilization", type=float)
    p.add_argument("--max-model-len", type=_positive_int)
    p.add_argument("--kv-cache-dtype", default="auto",
                   choices=["auto", "fp8", "fp8_e4m3", "fp8_e5m2"])
    p.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32",
                                                      "half", "bf16", "fp16"])
    p.add_argument("--quantization", help="awq, gptq, fp8, compressed-tensors, bitsandbytes, …")
    p.add_argument("--vllm-version", help="vLLM version whose defaults and accounting to use")
    p.add_argument("--concurrency", type=_positive_int, default=1,
                   help="simultaneous full-context requests to hold (sets replicas)")
    p.add_argument("--max-num-seqs", type=_positive_int)
    p.add_argument("--max-num-batched-tokens", type=_positive_int)
    p.add_argument("--block-size", type=_positive_int)
    p.add_argument("--enforce-eager", action="store_true")
    p.add_argument("--expert-parallel", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--max-gpus", type=_positive_int, default=64, help="per replica")
    p.add_argument("--max-nodes", type=_positive_int, default=4, help="per replica")
    p.add_argument("--ttft-ms", type=float, help="target time to first token (512-token prompt)")
    p.add_argument("--load-bandwidth-mb-s", type=_positive_float, default=400.0,
                   help="weights volume read bandwidth (MiB/s) for the startup estimate")
    p.add_argument("--json", action="store_true", help="print the plan as one JSON object")
