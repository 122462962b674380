"""From a series of scrapes to the numbers a diagnosis rests on (pure).

Counters become rates over the window (a drop means the server restarted, and
the new value counts from zero). Gauges are sampled at each scrape, so they
give a mean, a peak and a trend. Histograms are differenced between the first
and last scrape, so percentiles describe only requests seen during the window,
not everything since the server started. Halves (first scrape → middle
scrape → last scrape) show whether something rose during the window.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from llmpod.diagnose.histogram import Percentile, percentile
from llmpod.diagnose.snapshot import Histogram, Snapshot
from llmpod.errors import LlmpodError


@dataclass(frozen=True)
class GaugeStats:
    mean: float
    peak: float
    first_half_mean: float
    second_half_mean: float
    #: Fraction of scrapes where the gauge was above zero.
    nonzero_share: float


@dataclass(frozen=True)
class LatencyStats:
    observations: float
    p50: Percentile | None
    p95: Percentile | None
    p95_first_half: Percentile | None
    p95_second_half: Percentile | None


@dataclass(frozen=True)
class LoneTtft:
    """TTFT of requests that met an empty server: the unloaded TTFT of this server.

    Pooled over scrape intervals where at most one request ran and none waited
    at both ends, so no request in them queued behind or shared a batch with
    another. ``prompt_tokens`` is their mean prompt length: an unloaded TTFT is
    a reference only for prompts of about that length.
    """

    mean_s: float
    observations: float
    prompt_tokens: float | None


@dataclass(frozen=True)
class WindowStats:
    scrapes: int
    seconds: float
    running: GaugeStats
    waiting: GaugeStats
    kv_usage: GaugeStats
    #: Share of scrapes with the KV cache ≥ ``KV_FULL`` *and* requests waiting.
    kv_full_with_queue_share: float
    preemptions: float
    requests_finished: float | None
    prompt_tokens_per_s: float
    generation_tokens_per_s: float
    generation_tokens_per_s_first_half: float
    generation_tokens_per_s_second_half: float
    ttft: LatencyStats
    itl: LatencyStats | None
    queue_time: LatencyStats | None
    metric_sources: dict[str, str]
    cache_info: dict[str, str]
    #: Means over the window's requests (histogram sum / count deltas).
    ttft_mean_s: float | None = None
    queue_time_mean_s: float | None = None
    #: Prompt tokens per request that got its first token in the window.
    prompt_tokens_per_request: float | None = None
    lone_ttft: LoneTtft | None = None
    #: Speculative decoding: accepted / proposed draft tokens in the window (None
    #: when the server exports no spec-decode counters or proposed nothing).
    spec_acceptance: float | None = None


#: KV usage at or above this counts as "full". vLLM 0.32 on this tiny model
#: allocates 128-token blocks, so one free block out of 16 already reads 0.94.
KV_FULL = 0.90


def counter_delta(values: Sequence[float]) -> float:
    """Increase of a counter over consecutive samples, counting resets from zero."""
    total = 0.0
    for before, after in itertools.pairwise(values):
        total += after - before if after >= before else after
    return total


def gauge_stats(values: Sequence[float]) -> GaugeStats:
    half = len(values) // 2
    first, second = values[: max(1, half)], values[half:]
    return GaugeStats(
        mean=sum(values) / len(values),
        peak=max(values),
        first_half_mean=sum(first) / len(first),
        second_half_mean=sum(second) / len(second),
        nonzero_share=sum(1 for v in values if v > 0) / len(values),
    )


def latency_stats(series: Sequence[Snapshot], key: str) -> LatencyStats | None:
    if any(key not in s.histograms for s in series):
        return None
    first, mid, last = series[0], series[len(series) // 2], series[-1]
    whole = last.histograms[key].minus(first.histograms[key])
    early = mid.histograms[key].minus(first.histograms[key])
    late = last.histograms[key].minus(mid.histograms[key])
    return LatencyStats(
        observations=whole.count,
        p50=percentile(whole, 0.50),
        p95=percentile(whole, 0.95),
        p95_first_half=_p95(early),
        p95_second_half=_p95(late),
    )


def _p95(hist: Histogram) -> Percentile | None:
    return percentile(hist, 0.95)


def _mean(series: Sequence[Snapshot], key: str) -> float | None:
    if any(key not in s.histograms for s in series):
        return None
    whole = series[-1].histograms[key].minus(series[0].histograms[key])
    return whole.total / whole.count if whole.count > 0 else None


def _prompt_per_request(series: Sequence[Snapshot]) -> float | None:
    firsts = series[-1].histograms["ttft"].minus(series[0].histograms["ttft"]).count
    prompts = counter_delta([s.values["prompt_tokens"] for s in series])
    return prompts / firsts if firsts > 0 else None


def lone_ttft(series: Sequence[Snapshot]) -> LoneTtft | None:
    """The unloaded TTFT seen inside ``series`` (see ``LoneTtft``), or None."""
    total = count = prompts = 0.0
    for a, b in itertools.pairwise(series):
        quiet = all(s.values["running"] <= 1 and s.values["waiting"] == 0 for s in (a, b))
        delta = b.histograms["ttft"].minus(a.histograms["ttft"])
        if not quiet or delta.count <= 0 or b.histograms["ttft"].count < a.histograms["ttft"].count:
            continue
        total, count = total + delta.total, count + delta.count
        prompts += counter_delta([a.values["prompt_tokens"], b.values["prompt_tokens"]])
    if count <= 0:
        return None
    return LoneTtft(mean_s=total / count, observations=count, prompt_tokens=prompts / count)


def _rate(series: Sequence[Snapshot], key: str, start: int, end: int) -> float:
    seconds = series[end].timestamp - series[start].timestamp
    if seconds <= 0:
        return 0.0
    return counter_delta([s.values[key] for s in series[start : end + 1]]) / seconds


def window_stats(series: Sequence[Snapshot]) -> WindowStats:
    """Summarise ``series`` (already checked by ``require_vllm``), oldest first."""
    ordered = sorted(series, key=lambda s: s.timestamp)
    seconds = ordered[-1].timestamp - ordered[0].timestamp if ordered else 0.0
    if len(ordered) < 2 or seconds <= 0:
        raise LlmpodError(
            code="window_too_short",
            message=(
                f"diagnose needs at least two scrapes taken at different times to compute "
                f"rates; got {len(ordered)} spanning {seconds:.1f} s."
            ),
            suggestions=[
                "use a --window at least twice the --interval (e.g. --window 60s --interval 5s)",
                "or give --from-file more than one scrape",
            ],
        )
    mid, last = len(ordered) // 2, len(ordered) - 1
    kv = [s.values["kv_usage"] for s in ordered]
    waiting = [s.values["waiting"] for s in ordered]
    finished = (
        counter_delta([s.values["request_success"] for s in ordered])
        if all("request_success" in s.values for s in ordered)
        else None
    )
    ttft = latency_stats(ordered, "ttft")
    assert ttft is not None  # required metric, checked by require_vllm
    return WindowStats(
        scrapes=len(ordered),
        seconds=seconds,
        running=gauge_stats([s.values["running"] for s in ordered]),
        waiting=gauge_stats(waiting),
        kv_usage=gauge_stats(kv),
        kv_full_with_queue_share=sum(
            1 for k, w in zip(kv, waiting, strict=True) if k >= KV_FULL and w > 0
        )
        / len(ordered),
        preemptions=counter_delta([s.values["preemptions"] for s in ordered]),
        requests_finished=finished,
        prompt_tokens_per_s=_rate(ordered, "prompt_tokens", 0, last),
        generation_tokens_per_s=_rate(ordered, "generation_tokens", 0, last),
        generation_tokens_per_s_first_half=_rate(ordered, "generation_tokens", 0, mid),
        generation_tokens_per_s_second_half=_rate(ordered, "generation_tokens", mid, last),
        ttft=ttft,
        itl=latency_stats(ordered, "itl"),
        queue_time=latency_stats(ordered, "queue_time"),
        metric_sources=dict(sorted(ordered[-1].sources.items())),
        cache_info=ordered[-1].cache_info,
        ttft_mean_s=_mean(ordered, "ttft"),
        queue_time_mean_s=_mean(ordered, "queue_time"),
        prompt_tokens_per_request=_prompt_per_request(ordered),
        lone_ttft=lone_ttft(ordered),
        spec_acceptance=_acceptance(ordered),
    )


def _acceptance(series: Sequence[Snapshot]) -> float | None:
    keys = ("spec_draft_tokens", "spec_accepted_tokens")
    if not all(k in s.values for s in series for k in keys):
        return None
    drafted = counter_delta([s.values["spec_draft_tokens"] for s in series])
    accepted = counter_delta([s.values["spec_accepted_tokens"] for s in series])
    return accepted / drafted if drafted > 0 else None
