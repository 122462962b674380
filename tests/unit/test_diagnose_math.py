"""Percentiles from histogram buckets, counter deltas and window halves.

Every expected value is worked out by hand in the comment next to it, from the
bucket counts, using the textbook estimate (rank = q × count; linear
interpolation inside the bucket holding the rank; lower bound 0 for the first).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from llmpod.diagnose import recording
from llmpod.diagnose.analyze import snapshots
from llmpod.diagnose.histogram import percentile
from llmpod.diagnose.snapshot import Histogram
from llmpod.diagnose.window import counter_delta, gauge_stats, window_stats
from llmpod.errors import LlmpodError

INF = math.inf
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scrapes"


def hist(*buckets: tuple[float, float]) -> Histogram:
    return Histogram(buckets=tuple(buckets), count=buckets[-1][1], total=0.0)


def test_p95_interpolates_inside_the_bucket_holding_the_rank() -> None:
    h = hist((0.1, 10), (0.25, 18), (0.5, 20), (INF, 20))
    # rank 0.95 × 20 = 19; 18 observations are ≤ 0.25, the 2 in (0.25, 0.5] hold ranks
    # 19-20; 19 is 1 of those 2 → 0.25 + 0.25 × 1/2 = 0.375
    p = percentile(h, 0.95)
    assert p is not None and p.value == pytest.approx(0.375) and not p.at_least


def test_first_bucket_interpolates_from_zero() -> None:
    h = hist((0.1, 10), (0.25, 18), (0.5, 20), (INF, 20))
    # rank 0.5 × 20 = 10, all 10 in (0, 0.1] → 0 + 0.1 × 10/10 = 0.1
    p = percentile(h, 0.5)
    assert p is not None and p.value == pytest.approx(0.1)
    # rank 0.25 × 20 = 5 → 0.1 × 5/10 = 0.05
    p = percentile(h, 0.25)
    assert p is not None and p.value == pytest.approx(0.05)


def test_rank_in_the_inf_bucket_is_a_lower_bound() -> None:
    h = hist((1.0, 5), (2.5, 6), (INF, 10))
    # rank 9.5 lies among the 4 observations above 2.5 s: only "≥ 2.5 s" is known
    p = percentile(h, 0.95)
    assert p is not None and p.value == 2.5 and p.at_least
    assert p.text() == "≥2.50 s"


def test_empty_histogram_has_no_percentile() -> None:
    assert percentile(hist((1.0, 0), (INF, 0)), 0.95) is None
    assert percentile(Histogram((), 0, 0), 0.5) is None


def test_quantile_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match=r"quantile must be in \(0, 1\), got 95"):
        percentile(hist((1.0, 1), (INF, 1)), 95)


def test_histogram_difference_and_restart() -> None:
    early = Histogram(((0.5, 2), (INF, 3)), count=3, total=1.0)
    late = Histogram(((0.5, 5), (INF, 9)), count=9, total=4.0)
    assert late.minus(early) == Histogram(((0.5, 3), (INF, 6)), count=6, total=3.0)
    # fewer observations than before: the server restarted, the late scrape is all new
    assert early.minus(late) == early


def test_counter_delta_counts_a_reset_from_zero() -> None:
    # 5→8: +3; 8→2 is a restart, the 2 are new: +2; 2→4: +2 → 7
    assert counter_delta([5, 8, 2, 4]) == 7
    assert counter_delta([3]) == 0


def test_gauge_stats_halves() -> None:
    g = gauge_stats([2, 5, 9, 14])
    # halves [2, 5] and [9, 14]
    assert (g.mean, g.peak, g.first_half_mean, g.second_half_mean) == (7.5, 14, 3.5, 11.5)
    assert gauge_stats([0, 1, 0, 3]).nonzero_share == 0.5


def test_window_percentiles_from_the_latency_fixture() -> None:
    w = window_stats(snapshots(recording.load([FIXTURES / "synthetic-latency-bound"])))
    # Cumulative TTFT buckets (le 0.1, 0.25, 0.5, 1, 2.5, +Inf):
    #   t=1000: 0 0 0 0 0 0 | t=1030: 10 18 20 20 20 20 | t=1060: 16 28 32 35 40 40
    # whole window = t1060 − t1000: rank p50 = 20 in (0.1, 0.25] (16 below, 12 inside):
    #   0.1 + 0.15 × 4/12 = 0.15; rank p95 = 38 in (1, 2.5] (35 below, 5 inside):
    #   1 + 1.5 × 3/5 = 1.9
    # first half p95 (t1030 − t1000): rank 19 in (0.25, 0.5] → 0.375
    # second half (t1060 − t1030 = 6 10 12 15 20 20): rank 19 in (1, 2.5] → 1 + 1.5 × 4/5 = 2.2
    assert w.ttft.observations == 40
    assert w.ttft.p50 is not None and w.ttft.p50.value == pytest.approx(0.15)
    assert w.ttft.p95 is not None and w.ttft.p95.value == pytest.approx(1.9)
    assert w.ttft.p95_first_half is not None
    assert w.ttft.p95_first_half.value == pytest.approx(0.375)
    assert w.ttft.p95_second_half is not None
    assert w.ttft.p95_second_half.value == pytest.approx(2.2)
    # 6000 generation tokens over 60 s
    assert w.generation_tokens_per_s == pytest.approx(100.0)


def test_rates_from_the_throughput_fixture() -> None:
    w = window_stats(snapshots(recording.load([FIXTURES / "synthetic-throughput-bound.jsonl"])))
    # generation 0, 2000, 4000, 6000 at t = 2000, 2010, 2020, 2030 → 200/s in both halves
    assert w.seconds == 30
    assert w.generation_tokens_per_s_first_half == pytest.approx(200.0)
    assert w.generation_tokens_per_s_second_half == pytest.approx(200.0)
    # request_success sums both finished_reason series: 16 per scrape step × 3 steps
    assert w.requests_finished == 48


def test_one_scrape_is_not_a_window() -> None:
    one = recording.load([FIXTURES / "synthetic-latency-bound" / "1000.prom"])
    with pytest.raises(LlmpodError, match=r"at least two scrapes .* got 1 spanning 0.0 s"):
        window_stats(snapshots(one))
