"""Which spec changes address a diagnosed bottleneck, most direct first (pure).

Each regime has its own levers. Values are concrete when the current layout is
known (``Current``, from the service's plan) and relative ("current × 2") when
it is not; the planner turns concrete ones into a plan diff (``whatif.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from llmpod.diagnose.classify import Diagnosis
from llmpod.diagnose.window import WindowStats

#: Below this KV peak the cache has room for a bigger batch.
KV_ROOM = 0.70


@dataclass(frozen=True)
class Current:
    """What the service runs now, as far as diagnose needs it."""

    replicas: int
    tp: int
    pp: int
    kv_cache_dtype: str
    quantized: bool
    max_num_seqs: int
    max_num_batched_tokens: int
    gpus_per_node: int
    gpu_key: str = ""
    #: The spec's replicas.max (autoscaling ceiling); a patch above it must raise it too.
    max_replicas: int = 1


@dataclass(frozen=True)
class Change:
    #: replicas | tensor_parallel_size | kv_cache_dtype | quantization | max_num_seqs |
    #: max_num_batched_tokens
    lever: str
    #: The new value, or a relative description when the current one is unknown.
    value: int | str
    why: str
    #: ServingSpec fields (dotted paths) to set; empty when the spec has no such field.
    spec_patch: dict[str, int | str] = field(default_factory=dict)
    #: The same change as `llmpod plan` flags.
    plan_flags: tuple[str, ...] = ()
    note: str = ""


def _demand_ratio(w: WindowStats) -> float:
    """(running + waiting) / running: how much bigger the batch would have to be."""
    running = max(w.running.mean, 1.0)
    return (running + w.waiting.mean) / running


def _replicas(w: WindowStats, cur: Current | None, why: str) -> Change:
    ratio = _demand_ratio(w)
    if cur is None:
        value: int | str = f"current × {ratio:.1f} (rounded up)"
        return Change("replicas", value, why, {"replicas.min": value})
    n = max(cur.replicas + 1, math.ceil(cur.replicas * ratio))
    patch: dict[str, int | str] = {"replicas.min": n}
    if n > cur.max_replicas:
        patch["replicas.max"] = n
    return Change(
        "replicas",
        n,
        why,
        patch,
        note=f"demand ≈ {ratio:.1f}× one batch: (running + waiting) / running",
    )


def _tp(cur: Current | None, why: str) -> Change | None:
    note = (
        "ServingSpec has no tensor-parallel field: the planner picks TP; pin it with "
        "`llmpod plan --tp N` or raise gpus.max_per_replica and the targets"
    )
    if cur is None:
        return Change("tensor_parallel_size", "current × 2", why, note=note)
    tp = cur.tp * 2
    if tp * cur.pp > cur.gpus_per_node:
        return None  # would span nodes: slower than replicas for every regime here
    return Change("tensor_parallel_size", tp, why, plan_flags=("--tp", str(tp)), note=note)


def _kv_fp8(cur: Current | None) -> Change | None:
    if cur is not None and cur.kv_cache_dtype != "auto":
        return None
    return Change(
        "kv_cache_dtype",
        "fp8",
        "fp8 KV cache halves the bytes per token: about twice the KV tokens on the "
        "same GPUs, at no cost (small accuracy risk; check your evals)",
        {"kv_cache_dtype": "fp8"},
        ("--kv-cache-dtype", "fp8"),
    )


def _quantize(cur: Current | None, why: str) -> Change | None:
    if cur is not None and cur.quantized:
        return None
    return Change("quantization", "fp8", why, {"quantization": "fp8"}, ("--quantization", "fp8"))


def _max_num_seqs(w: WindowStats, cur: Current | None, direction: str, why: str) -> Change:
    if direction == "down":
        target = max(1, math.floor(w.running.mean))
    else:
        target = math.ceil(w.running.mean + w.waiting.mean)
        if cur is not None:
            target = max(cur.max_num_seqs * 2, target)
    return Change(
        "max_num_seqs", target, why, {"vllm.max_num_seqs": target}, ("--max-num-seqs", str(target))
    )


def _max_batched(cur: Current | None, why: str) -> Change:
    value: int | str = cur.max_num_batched_tokens * 2 if cur else "current × 2"
    flags = ("--max-num-batched-tokens", str(value)) if cur else ()
    return Change(
        "max_num_batched_tokens", value, why, {"vllm.max_num_batched_tokens": value}, flags
    )


def propose(d: Diagnosis, w: WindowStats, cur: Current | None) -> list[Change]:
    out: list[Change | None] = []
    if d.regime == "memory-bound":
        out = [
            _kv_fp8(cur),
            _quantize(cur, "fp8 weights free about half the weight memory for KV cache"),
            _tp(cur, "weights split over more GPUs leave more memory per GPU for KV cache"),
            _replicas(w, cur, "more replicas split the requests, so each cache holds fewer"),
        ]
        if cur is None or w.running.mean < cur.max_num_seqs:
            out.append(
                _max_num_seqs(
                    w,
                    cur,
                    "down",
                    "admit only what the cache holds: trades preemption "
                    "(recompute) for queueing, at no cost",
                )
            )
    elif d.regime == "throughput-bound":
        # A bigger batch helps only when the batch is what is full: 256 clients on
        # an H200 with max_num_seqs 1024 queued for compute, not for seats.
        batch_full = cur is None or w.running.peak >= cur.max_num_seqs
        if w.kv_usage.peak < KV_ROOM and batch_full:
            out.append(
                _max_num_seqs(
                    w,
                    cur,
                    "up",
                    f"the KV cache peaked at {w.kv_usage.peak:.0%}: it has room for a bigger batch",
                )
            )
        out += [
            _replicas(w, cur, "throughput scales with replicas; the queue is the demand"),
            _tp(cur, "faster decode per replica (memory bandwidth adds up across GPUs)"),
            _quantize(cur, "fp8 weights read half the bytes per decoded token"),
        ]
    elif d.regime == "latency-bound":
        out = [
            _max_batched(
                cur, "bigger prefill chunks: a burst's prompts finish prefill in fewer engine steps"
            ),
            _tp(cur, "prefill compute splits across more GPUs"),
            _replicas(w, cur, "bursts spread over more replicas"),
        ]
    return [c for c in out if c is not None]
