"""Percentiles from Prometheus histogram buckets.

A histogram only knows how many observations fell into each bucket, not their
values, so a percentile is an estimate. We use the same estimate as PromQL's
``histogram_quantile``: find the bucket holding the requested rank and
interpolate linearly between its lower and upper bound, i.e. assume the
observations are spread evenly inside the bucket. The first bucket's lower
bound is 0 (latencies are never negative). A rank that lands in the +Inf
bucket cannot be interpolated; the answer is then the largest finite bound,
flagged as a lower bound ("≥").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmpod.diagnose.snapshot import Histogram


@dataclass(frozen=True)
class Percentile:
    q: float
    value: float
    #: True when the rank fell in the +Inf bucket: the real value is ≥ ``value``.
    at_least: bool = False

    def text(self, unit: str = "s") -> str:
        prefix = "≥" if self.at_least else ""
        if unit == "s" and self.value < 1:
            return f"{prefix}{self.value * 1000:.0f} ms"
        return f"{prefix}{self.value:.2f} {unit}"


def percentile(hist: Histogram, q: float) -> Percentile | None:
    """The ``q``-quantile (0 < q < 1) of the observations in ``hist``; None if empty."""
    if not 0 < q < 1:
        raise ValueError(f"quantile must be in (0, 1), got {q}")
    if not hist.buckets:
        return None
    total = hist.buckets[-1][1]
    if total <= 0:
        return None
    rank = q * total
    lower_bound, below = 0.0, 0.0
    for upper_bound, cumulative in hist.buckets:
        if cumulative >= rank:
            if math.isinf(upper_bound):
                return Percentile(q, lower_bound, at_least=True)
            in_bucket = cumulative - below
            if in_bucket <= 0:
                return Percentile(q, upper_bound)
            fraction = (rank - below) / in_bucket
            return Percentile(q, lower_bound + (upper_bound - lower_bound) * fraction)
        lower_bound, below = upper_bound, cumulative
    # Cumulative counts never reached the total: a malformed histogram (no +Inf).
    return Percentile(q, lower_bound, at_least=True)


def mean(hist: Histogram) -> float | None:
    return hist.total / hist.count if hist.count > 0 else None
