"""The throughput rules that name a recurring queue, on hand-made windows.

Every figure is worked out in the comments from the counters set here.
"""

from __future__ import annotations

from llmpod.diagnose.classify import classify
from llmpod.diagnose.snapshot import Histogram, Snapshot
from llmpod.diagnose.window import LoneTtft, lone_ttft, window_stats

INF = float("inf")


def snap(
    ts: float,
    *,
    running: float,
    waiting: float,
    requests: float,
    ttft_sum: float,
    queue_sum: float,
    prompt_tokens: float,
) -> Snapshot:
    """``requests`` first tokens so far, all in the (0.1, 1] TTFT bucket."""

    def hist(total: float) -> Histogram:
        return Histogram(((0.1, 0.0), (1.0, requests), (INF, requests)), requests, total)

    return Snapshot(
        timestamp=ts,
        values={
            "running": running,
            "waiting": waiting,
            "kv_usage": 0.3,
            "preemptions": 0.0,
            "prompt_tokens": prompt_tokens,
            "generation_tokens": 100.0 * ts,
        },
        histograms={"ttft": hist(ttft_sum), "queue_time": hist(queue_sum)},
        sources={},
        families=frozenset(),
    )


def window(queue_sum_per_request: float, waiting_in: int = 3, of: int = 10) -> list[Snapshot]:
    """10 scrapes, 1 s apart, 32 running; queue in ``waiting_in`` of them; 20 first
    tokens per second at TTFT 0.4 s each and 500 prompt tokens each."""
    return [
        snap(
            t,
            running=32,
            waiting=4 if t < waiting_in else 0,
            requests=20 * t,
            ttft_sum=0.4 * 20 * t,
            queue_sum=queue_sum_per_request * 20 * t,
            prompt_tokens=500 * 20 * t,
        )
        for t in range(of)
    ]


def test_recurring_queue_that_holds_most_of_ttft_is_throughput_bound() -> None:
    # Queue in 3 of 10 scrapes (30% ≥ 20%); queue 0.3 s of TTFT 0.4 s = 75% ≥ 50%.
    d = classify(window_stats(window(0.3)))
    assert d.regime == "throughput-bound"
    assert d.evidence[0].startswith("requests waiting in 30% of scrapes (a recurring queue)")
    assert d.evidence[1] == (
        "requests spent 75% of their time to first token queued "
        "(queue time mean 300 ms of TTFT mean 400 ms)"
    )


def test_recurring_queue_that_costs_little_is_not_a_bottleneck() -> None:
    # Same queue share, but 0.05 s of 0.4 s queued (12%): chance arrivals.
    assert classify(window_stats(window(0.05))).regime == "healthy"


def test_rare_queue_is_never_throughput_bound() -> None:
    # 1 of 10 scrapes (10% < 20%), even with a costly queue.
    assert classify(window_stats(window(0.3, waiting_in=1))).regime == "healthy"


def test_ttft_many_times_the_unloaded_one_names_the_queue() -> None:
    # TTFT mean 0.4 s against an unloaded 0.05 s for 400-token prompts (window: 500
    # per request, within ×2): ×8 ≥ ×4.
    w = window_stats(window(0.05))
    d = classify(w, reference=LoneTtft(mean_s=0.05, observations=10, prompt_tokens=400))
    assert d.regime == "throughput-bound"
    assert d.evidence[1] == (
        "TTFT mean 400 ms is ×8 this server's unloaded 50 ms for prompts of similar "
        "length (~400 tokens)"
    )


def test_unloaded_ttft_of_other_prompt_lengths_is_no_reference() -> None:
    # 100-token reference prompts against 500-token ones (×5 > ×2): not comparable.
    w = window_stats(window(0.05))
    d = classify(w, reference=LoneTtft(mean_s=0.05, observations=10, prompt_tokens=100))
    assert d.regime == "healthy"


def test_lone_ttft_pools_only_intervals_with_at_most_one_request() -> None:
    # 0→1: one running, 2 first tokens, 0.04 s summed, 600 prompt tokens → counted;
    # 1→2: 32 running → skipped. Pooled: 0.04 / 2 = 0.02 s, 600 / 2 = 300 tokens.
    series = [
        snap(0, running=1, waiting=0, requests=0, ttft_sum=0, queue_sum=0, prompt_tokens=0),
        snap(1, running=1, waiting=0, requests=2, ttft_sum=0.04, queue_sum=0, prompt_tokens=600),
        snap(2, running=32, waiting=0, requests=9, ttft_sum=3.0, queue_sum=1, prompt_tokens=9000),
    ]
    lone = lone_ttft(series)
    assert lone is not None
    assert (round(lone.mean_s, 6), lone.observations, lone.prompt_tokens) == (0.02, 2, 300)


def test_a_bigger_batch_is_offered_only_when_the_batch_is_full() -> None:
    from llmpod.diagnose.changes import Current, propose

    w = window_stats(window(0.3))  # throughput-bound, 32 running, KV 30%
    d = classify(w)

    def current(max_num_seqs: int) -> Current:
        return Current(replicas=1, tp=1, pp=1, kv_cache_dtype="auto", quantized=False,
                       max_num_seqs=max_num_seqs, max_num_batched_tokens=8192,
                       gpus_per_node=8)  # fmt: skip

    assert "max_num_seqs" not in [c.lever for c in propose(d, w, current(1024))]
    assert propose(d, w, current(32))[0].lever == "max_num_seqs"
