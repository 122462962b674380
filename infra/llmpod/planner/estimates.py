"""The shape of a plan's ``estimates`` (DESIGN.md "CLI contract"), typed once.

perf.py fills the throughput and latency part, startup.py the startup part;
every reader (cost per token, the probe budget, the CLI view, diagnose) gets
keys and value types checked instead of indexing an untyped dict.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class PerfEstimates(TypedDict):
    #: Aggregate output tokens/s per replica, keyed by benchmark concurrency
    #: (string keys: the JSON object as printed).
    decode_tokens_per_s: dict[str, float]
    #: Time to first token of one 512-token prompt, seconds.
    ttft_s_512: float
    #: Decode step time at concurrency 1, seconds.
    inter_token_latency_s: float
    #: How the figures were derived (they are not measurements).
    method: str


class EngineInit(TypedDict):
    cold: float
    warm_cache: float


class StartupEstimate(TypedDict):
    """Seconds from container start to vLLM /health, by phase."""

    weights_read: float
    engine_init: EngineInit
    process_start: float
    #: A replica that finds no compile cache (the first of its layout).
    total: float
    total_warm_cache: float
    checkpoint_gib: float
    read_mb_s: float
    method: str


class Estimates(PerfEstimates):
    startup_s: StartupEstimate
    #: At the request's workload (planner/traffic.py), when it has one.
    workload: NotRequired[dict[str, object]]
