"""Name the bottleneck from a window's numbers, and show the numbers (pure).

Checked in order, first match wins, because each regime also produces the
next one's symptoms: a full KV cache makes requests queue (which looks like a
throughput problem), and a queue makes TTFT rise (which looks like a latency
problem). Fixing the earliest cause is what moves the others.

* memory-bound: preemptions during the window, or the KV cache full while
  requests wait (vLLM admits a request only when its prompt's blocks fit).
* throughput-bound: work arrives faster than the batch absorbs it, with the
  KV cache not the cause. Either a standing queue (requests wait in most
  scrapes), or a recurring one (in at least one scrape in five) that is what
  delays first tokens: requests spend at least half their TTFT queued, or
  TTFT is several times the unloaded TTFT of this server for prompts of the
  same length. A saturated GPU under closed-loop clients shows the second
  form: each finished request is replaced at once, so the queue flickers
  instead of growing, and the wait shows up in TTFT.
* latency-bound: no queue and no KV pressure, yet TTFT p95 is over the target,
  rises across the window, or sits far above the median (bursts of prefills),
  or TTFT is an order of magnitude above the unloaded TTFT for prompts of the
  same length (prefills of simultaneous arrivals sharing steps).
* idle: no tokens generated and nothing running or waiting.
* healthy: traffic, and none of the above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llmpod.diagnose.histogram import Percentile
from llmpod.diagnose.window import KV_FULL, LoneTtft, WindowStats

Regime = Literal["memory-bound", "throughput-bound", "latency-bound", "healthy", "idle"]

#: Requests waiting in more scrapes than not is a standing queue, not a blip.
QUEUE_SUSTAINED_SHARE = 0.5
#: A queue in one scrape in five recurs: too often for chance arrivals to explain
#: alone, so what it costs (below) decides whether it is the bottleneck.
QUEUE_RECURRING_SHARE = 0.2
#: Requests that spend half their time to first token queued are waiting for the
#: server, not being served (vllm:request_queue_time_seconds over TTFT, means).
QUEUED_SHARE_OF_TTFT = 0.5
#: TTFT this many times the unloaded TTFT: more than sharing a step with a full
#: decode batch costs a prefill (about ×2 on chunked prefill), so requests queue.
TTFT_OVER_UNLOADED = 4.0
#: TTFT an order of magnitude above the unloaded one, without a queue: first
#: tokens are dominated by the load (prefills of simultaneous arrivals sharing
#: steps), not by the request's own prefill.
TTFT_LOADED_FACTOR = 10.0
#: An unloaded TTFT is a reference only for prompts within this factor of its own
#: length: prefill time grows with the prompt.
PROMPT_LENGTH_FACTOR = 2.0
#: KV full with a queue in this share of scrapes means admission is blocked on memory.
KV_BLOCKED_SHARE = 0.25
#: TTFT p95 rising by this factor between halves of the window = "rising".
TTFT_RISE = 1.5
#: p95 this many times the median = a burst tail rather than uniformly slow prefill.
TTFT_TAIL_RATIO = 4.0
#: Below this p95 a TTFT "rise" is noise (a few ms on a lightly loaded server).
TTFT_FLOOR_S = 0.1
#: Fewer TTFT observations than this cannot support a percentile claim.
MIN_TTFT_OBSERVATIONS = 5


@dataclass(frozen=True)
class Diagnosis:
    regime: Regime
    summary: str
    #: Human-readable facts with their numbers, most decisive first.
    evidence: tuple[str, ...]


def _pct(p: Percentile | None) -> str:
    return p.text() if p else "n/a"


def _memory(w: WindowStats) -> Diagnosis | None:
    if w.preemptions <= 0 and w.kv_full_with_queue_share < KV_BLOCKED_SHARE:
        return None
    evidence = [f"KV cache usage peaked at {w.kv_usage.peak:.0%} (mean {w.kv_usage.mean:.0%})"]
    if w.preemptions > 0:
        evidence.insert(
            0,
            f"{w.preemptions:.0f} preemptions in {w.seconds:.0f} s "
            f"({w.preemptions / w.seconds * 60:.1f}/min): requests were evicted "
            f"from the KV cache and must recompute",
        )
    if w.kv_full_with_queue_share > 0:
        evidence.append(
            f"KV cache ≥ {KV_FULL:.0%} with requests waiting in "
            f"{w.kv_full_with_queue_share:.0%} of scrapes"
        )
    evidence.append(
        f"waiting requests mean {w.waiting.mean:.1f} (peak {w.waiting.peak:.0f}), "
        f"running mean {w.running.mean:.1f}"
    )
    return Diagnosis(
        "memory-bound",
        "The KV cache is the limit: requests are preempted or wait for cache blocks.",
        tuple(evidence),
    )


def comparable_reference(w: WindowStats, reference: LoneTtft | None) -> LoneTtft | None:
    """``reference`` if its prompts are about as long as the window's, else None."""
    if reference is None:
        return None
    if reference.prompt_tokens is None:
        return reference  # given by the user (--unloaded-ttft), who vouches for it
    if w.prompt_tokens_per_request is None or reference.prompt_tokens <= 0:
        return None
    ratio = w.prompt_tokens_per_request / reference.prompt_tokens
    return reference if 1 / PROMPT_LENGTH_FACTOR <= ratio <= PROMPT_LENGTH_FACTOR else None


def _queue_cost(w: WindowStats, reference: LoneTtft | None) -> list[str]:
    """Why a recurring queue is the bottleneck: what it adds to the first token."""
    reasons = []
    if w.queue_time_mean_s is not None and w.ttft_mean_s:
        share = w.queue_time_mean_s / w.ttft_mean_s
        if share >= QUEUED_SHARE_OF_TTFT:
            reasons.append(
                f"requests spent {share:.0%} of their time to first token queued "
                f"(queue time mean {w.queue_time_mean_s * 1000:.0f} ms of TTFT mean "
                f"{w.ttft_mean_s * 1000:.0f} ms)"
            )
    ref = comparable_reference(w, reference)
    if ref is not None and w.ttft_mean_s is not None and ref.mean_s > 0:
        factor = w.ttft_mean_s / ref.mean_s
        if factor >= TTFT_OVER_UNLOADED:
            reasons.append(
                f"TTFT mean {w.ttft_mean_s * 1000:.0f} ms is ×{factor:.0f} this server's "
                f"unloaded {ref.mean_s * 1000:.0f} ms"
                + (
                    f" for prompts of similar length (~{ref.prompt_tokens:.0f} tokens)"
                    if ref.prompt_tokens
                    else ""
                )
            )
    return reasons


def _throughput(w: WindowStats, reference: LoneTtft | None) -> Diagnosis | None:
    share = w.waiting.nonzero_share
    if share < QUEUE_RECURRING_SHARE:
        return None
    costs = _queue_cost(w, reference)
    if share < QUEUE_SUSTAINED_SHARE and not costs:
        return None
    early, late = w.generation_tokens_per_s_first_half, w.generation_tokens_per_s_second_half
    queue_growing = w.waiting.second_half_mean > w.waiting.first_half_mean
    draining = w.waiting.second_half_mean < w.waiting.first_half_mean
    trend = "grew" if queue_growing else "shrank" if draining else "held"
    standing = share >= QUEUE_SUSTAINED_SHARE
    evidence = [
        f"requests waiting in {share:.0%} of scrapes "
        f"({'a standing queue' if standing else 'a recurring queue'}); queue {trend} "
        f"from {w.waiting.first_half_mean:.1f} to {w.waiting.second_half_mean:.1f} "
        f"(peak {w.waiting.peak:.0f})",
        *costs,
        f"generation {w.generation_tokens_per_s:.0f} tokens/s ({early:.0f} → {late:.0f} "
        f"between halves) with {w.running.mean:.1f} requests running on average "
        f"(peak {w.running.peak:.0f})",
        f"KV cache peak {w.kv_usage.peak:.0%}, {w.preemptions:.0f} preemptions: "
        f"memory is not the limit",
        f"TTFT p95 {_pct(w.ttft.p95)} (p50 {_pct(w.ttft.p50)})"
        + (f"; queue time p95 {_pct(w.queue_time.p95)}" if w.queue_time else ""),
    ]
    return Diagnosis(
        "throughput-bound",
        "The server is at its ceiling: requests queue for a place in the batch.",
        tuple(evidence),
    )


def _latency(
    w: WindowStats, ttft_target_s: float | None, reference: LoneTtft | None
) -> Diagnosis | None:
    t = w.ttft
    if t.observations < MIN_TTFT_OBSERVATIONS or t.p95 is None or t.p50 is None:
        return None
    reasons = []
    ref = comparable_reference(w, reference)
    if ref is not None and w.ttft_mean_s is not None and ref.mean_s > 0:
        factor = w.ttft_mean_s / ref.mean_s
        if factor >= TTFT_LOADED_FACTOR:
            reasons.append(
                f"TTFT mean {w.ttft_mean_s * 1000:.0f} ms is ×{factor:.0f} this server's "
                f"unloaded {ref.mean_s * 1000:.0f} ms, and no queue explains it: prompts "
                f"arriving together share prefill steps"
            )
    if ttft_target_s is not None and t.p95.value > ttft_target_s:
        reasons.append(f"TTFT p95 {_pct(t.p95)} is above the {ttft_target_s * 1000:.0f} ms target")
    if t.p95.value >= TTFT_FLOOR_S:
        a, b = t.p95_first_half, t.p95_second_half
        if a and b and a.value > 0 and b.value >= TTFT_RISE * a.value:
            reasons.append(
                f"TTFT p95 rose from {_pct(a)} to {_pct(b)} between halves of "
                f"the window (×{b.value / a.value:.1f})"
            )
        if t.p50.value > 0 and t.p95.value >= TTFT_TAIL_RATIO * t.p50.value:
            reasons.append(
                f"TTFT p95 {_pct(t.p95)} is ×{t.p95.value / t.p50.value:.1f} the "
                f"median {_pct(t.p50)}: bursts of prefills"
            )
    if not reasons:
        return None
    reasons.append(
        f"no KV pressure (peak {w.kv_usage.peak:.0%}, {w.preemptions:.0f} "
        f"preemptions) and no standing queue (waiting in "
        f"{w.waiting.nonzero_share:.0%} of scrapes)"
    )
    return Diagnosis(
        "latency-bound",
        "Time to first token suffers under bursts while memory and queue are fine.",
        tuple(reasons),
    )


def classify(
    w: WindowStats, ttft_target_s: float | None = None, reference: LoneTtft | None = None
) -> Diagnosis:
    """Name the regime. ``reference``: this server's unloaded TTFT, if known from
    elsewhere (another recording, ``--unloaded-ttft``); else lone requests inside
    the window itself serve, when there are any."""
    if (
        w.generation_tokens_per_s == 0
        and w.prompt_tokens_per_s == 0
        and w.running.peak == 0
        and w.waiting.peak == 0
    ):
        return Diagnosis(
            "idle",
            "No traffic during the window: nothing to diagnose.",
            (f"0 tokens in {w.seconds:.0f} s over {w.scrapes} scrapes",),
        )
    reference = reference or w.lone_ttft
    for found in (_memory(w), _throughput(w, reference), _latency(w, ttft_target_s, reference)):
        if found is not None:
            return found
    return Diagnosis(
        "healthy",
        "No bottleneck: the cache has room, nothing queues and TTFT is steady.",
        (
            f"generation {w.generation_tokens_per_s:.1f} tokens/s, running mean "
            f"{w.running.mean:.1f}, waiting in {w.waiting.nonzero_share:.0%} of scrapes",
            f"KV cache peak {w.kv_usage.peak:.0%}, {w.preemptions:.0f} preemptions",
            f"TTFT p50 {_pct(w.ttft.p50)}, p95 {_pct(w.ttft.p95)}",
        ),
    )
