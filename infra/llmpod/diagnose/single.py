"""What one scrape can and cannot say (pure).

vLLM's counters and histograms count from process start, so one scrape holds
totals: requests finished, preemptions, tokens, and the TTFT distribution of
every request since start (its mean and percentiles). Its gauges say what is
true at that instant: running, waiting, KV cache usage. What it cannot hold is
anything about change: no rate (tokens/s), no trend (is TTFT rising?), no
"standing queue" (a queue in one scrape may be a blip), and no "recent"
(percentiles since start mix this hour with last week's). So a single scrape
gets facts and the conclusions they support, and no regime: naming a
bottleneck needs a window (``llmpod diagnose URL --window 60s``, or a
recording of several scrapes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any

from llmpod.diagnose.histogram import Percentile, mean, percentile
from llmpod.diagnose.snapshot import Snapshot
from llmpod.diagnose.window import KV_FULL

CANNOT = (
    "throughput (tokens/s) and request rate: a rate needs two scrapes",
    "whether a queue is standing or a momentary blip: one scrape sees one instant",
    "whether TTFT is rising, or how the recent past compares with the average since start",
    "which regime (memory-, throughput-, latency-bound, healthy): that needs a window "
    "(llmpod diagnose URL --window 60s, or a recording of several scrapes)",
)


@dataclass(frozen=True)
class SingleScrape:
    source: str
    timestamp: float
    snapshot: Snapshot
    concluded: tuple[str, ...]


def _latency(snap: Snapshot, key: str) -> dict[str, Any] | None:
    hist = snap.histograms.get(key)
    if hist is None:
        return None
    p50, p95 = percentile(hist, 0.50), percentile(hist, 0.95)
    average = mean(hist)
    return {
        "observations": hist.count,
        "mean": None if average is None else round(average, 4),
        "p50": _pct(p50),
        "p95": _pct(p95),
    }


def _pct(p: Percentile | None) -> dict[str, Any] | None:
    return None if p is None else {"value": round(p.value, 4), "at_least": p.at_least}


def _conclusions(snap: Snapshot) -> tuple[str, ...]:
    v = snap.values
    running, waiting, kv = v["running"], v["waiting"], v["kv_usage"]
    preempted, generated = v["preemptions"], v["generation_tokens"]
    out: list[str] = []
    if generated == 0 and v["prompt_tokens"] == 0:
        out.append("the server has processed no tokens since it started")
    if preempted > 0:
        out.append(
            f"the KV cache ran out at least once since start: {preempted:.0f} preemptions "
            "(when, and whether it still does, needs a window)"
        )
    else:
        out.append("no request was ever preempted since start: the KV cache never ran out")
    if waiting > 0 and kv >= KV_FULL:
        out.append(
            f"right now {waiting:.0f} requests wait while the KV cache is {kv:.0%} full: "
            "admission is blocked on memory at this instant"
        )
    elif waiting > 0:
        out.append(
            f"right now {waiting:.0f} requests wait with the KV cache at {kv:.0%}: the batch "
            f"({running:.0f} running) is at a ceiling at this instant"
        )
    elif running > 0:
        out.append(f"right now {running:.0f} requests run and none waits (KV cache at {kv:.0%})")
    else:
        out.append("right now nothing runs and nothing waits")
    ttft = snap.histograms["ttft"]
    average = mean(ttft)
    if average is not None:
        out.append(
            f"mean time to first token since start: {average * 1000:.0f} ms over "
            f"{ttft.count:.0f} requests"
        )
    return tuple(out)


def single_scrape(snap: Snapshot, source: str) -> SingleScrape:
    return SingleScrape(source, snap.timestamp, snap, _conclusions(snap))


def to_json(r: SingleScrape) -> dict[str, Any]:
    v = r.snapshot.values
    return {
        "source": r.source,
        "regime": None,
        "single_scrape": True,
        "summary": "One scrape: totals since the server started and the state at that "
        "instant; no rates, trends or regime.",
        "now": {
            "running": v["running"],
            "waiting": v["waiting"],
            "kv_cache_usage": round(v["kv_usage"], 4),
        },
        "since_start": {
            "preemptions": v["preemptions"],
            "requests_finished": v.get("request_success"),
            "prompt_tokens": v["prompt_tokens"],
            "generation_tokens": v["generation_tokens"],
            "ttft_s": _latency(r.snapshot, "ttft"),
            "inter_token_latency_s": _latency(r.snapshot, "itl"),
            "queue_time_s": _latency(r.snapshot, "queue_time"),
        },
        "concluded": list(r.concluded),
        "cannot_conclude": list(CANNOT),
        "kv_cache": {
            k: r.snapshot.cache_info[k]
            for k in ("block_size", "cache_dtype", "kv_cache_size_tokens", "num_gpu_blocks")
            if k in r.snapshot.cache_info
        },
    }


def write_text(r: SingleScrape, out: IO[str]) -> None:
    out.write(f"ONE SCRAPE of {r.source}: totals since start and the state now; no regime.\n")
    out.write("  What it shows:\n")
    for line in r.concluded:
        out.write(f"  - {line}\n")
    ttft = _latency(r.snapshot, "ttft")
    if ttft and ttft["p50"] and ttft["p95"]:
        out.write(
            f"  - TTFT since start: p50 {ttft['p50']['value'] * 1000:.0f} ms, p95 "
            f"{'≥' if ttft['p95']['at_least'] else ''}{ttft['p95']['value'] * 1000:.0f} ms "
            "(estimated from histogram buckets)\n"
        )
    out.write("  What it cannot show:\n")
    for line in CANNOT:
        out.write(f"  - {line}\n")
