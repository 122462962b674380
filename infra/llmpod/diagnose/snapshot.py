"""One scrape of a vLLM ``/metrics`` page, reduced to the numbers diagnose uses.

Parsing is ``prometheus_client``'s (the exposition format has escaping, label
and ``_created`` rules that a hand-written splitter gets wrong). A server with
several engines (data parallel) exports one series per ``engine`` label: queue
gauges and counters are summed across them, KV usage takes the fullest engine
(one full cache preempts even when its neighbour is empty).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from prometheus_client.metrics_core import Metric as Family
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from llmpod.errors import LlmpodError
from llmpod.releases.metric_names import (
    ALL_METRICS,
    CACHE_CONFIG_INFO,
    KV_USAGE,
    VLLM_PREFIX,
    Metric,
)


@dataclass(frozen=True)
class Histogram:
    """Cumulative bucket counts, ``(upper bound, count ≤ bound)``, ending with +Inf."""

    buckets: tuple[tuple[float, float], ...]
    count: float
    total: float

    def minus(self, earlier: Histogram) -> Histogram:
        """Observations made between ``earlier`` and this scrape.

        A smaller count means the server restarted in between (counters reset);
        then everything in this scrape is new.
        """
        if self.count < earlier.count or len(self.buckets) != len(earlier.buckets):
            return self
        pairs = zip(self.buckets, earlier.buckets, strict=True)
        return Histogram(
            buckets=tuple((le, now - then) for (le, now), (_, then) in pairs),
            count=self.count - earlier.count,
            total=self.total - earlier.total,
        )


@dataclass(frozen=True)
class Snapshot:
    timestamp: float
    values: dict[str, float]
    histograms: dict[str, Histogram]
    #: Which family name served each metric key (shows when an old name was used).
    sources: dict[str, str]
    families: frozenset[str]
    cache_info: dict[str, str] = field(default_factory=dict)


def parse_exposition(text: str, timestamp: float, *, origin: str) -> Snapshot:
    """Parse Prometheus text from ``origin`` (a URL or file) taken at ``timestamp``."""
    try:
        families = {f.name: f for f in text_string_to_metric_families(text)}
    except ValueError as exc:
        raise LlmpodError(
            code="metrics_unparseable",
            message=(
                f"{origin} did not return Prometheus text metrics (the parser said: "
                f"{str(exc)[:160]})."
            ),
            suggestions=[
                "point at the vLLM server's base URL (diagnose appends /metrics)",
                "check that the URL is the vLLM OpenAI server, not a proxy or UI",
            ],
        ) from None
    # A counter exported without a TYPE line keeps its _total suffix in the parser.
    for name, fam in list(families.items()):
        if fam.type == "unknown" and name.endswith("_total"):
            families.setdefault(name.removesuffix("_total"), fam)
    values: dict[str, float] = {}
    histograms: dict[str, Histogram] = {}
    sources: dict[str, str] = {}
    for metric in ALL_METRICS:
        found = [n for n in metric.names if n in families]
        if not found:
            continue
        name = found[0]
        sources[metric.key] = name
        samples = families[name].samples
        if metric.kind == "histogram":
            histograms[metric.key] = _histogram(name, samples)
        else:
            values[metric.key] = _scalar(metric, name, samples)
    return Snapshot(
        timestamp=timestamp,
        values=values,
        histograms=histograms,
        sources=sources,
        families=frozenset(families),
        cache_info=_cache_info(families),
    )


def _scalar(metric: Metric, name: str, samples: Sequence[Sample]) -> float:
    wanted = {name, f"{name}_total"}
    numbers = [
        float(s.value) for s in samples if s.name in wanted and not math.isnan(float(s.value))
    ]
    if not numbers:
        return 0.0
    return max(numbers) if metric is KV_USAGE else sum(numbers)


def _histogram(name: str, samples: Sequence[Sample]) -> Histogram:
    by_bound: dict[float, float] = {}
    count = total = 0.0
    for s in samples:
        sname, labels, value = s.name, s.labels, float(s.value)
        if sname == f"{name}_bucket":
            le = float(labels["le"])
            by_bound[le] = by_bound.get(le, 0.0) + value
        elif sname == f"{name}_count":
            count += value
        elif sname == f"{name}_sum":
            total += value
    buckets = tuple(sorted(by_bound.items()))
    return Histogram(buckets=buckets, count=count, total=total)


def _cache_info(families: dict[str, Family]) -> dict[str, str]:
    fam = families.get(CACHE_CONFIG_INFO)
    if fam is None or not fam.samples:
        return {}
    return dict(fam.samples[0].labels)


def require_vllm(snapshot: Snapshot, *, origin: str) -> None:
    """Refuse pages that are not vLLM's, or that lack what the classifier needs."""
    vllm_families = sorted(f for f in snapshot.families if f.startswith(VLLM_PREFIX))
    if not vllm_families:
        seen = ", ".join(sorted(snapshot.families)[:5]) or "no metrics at all"
        raise LlmpodError(
            code="not_vllm",
            message=(
                f"{origin} is not a vLLM metrics endpoint: it exports no 'vllm:' metric "
                f"families (saw: {seen})."
            ),
            suggestions=[
                "point at the vLLM OpenAI server (the port `vllm serve` listens on)",
                "not the llmpod status port or a gateway in front of it",
            ],
        )
    missing = [m for m in ALL_METRICS if m.required and m.key not in snapshot.sources]
    if missing:
        raise LlmpodError(
            code="metrics_missing",
            message=(
                f"{origin} is a vLLM server but lacks metric(s) diagnose needs: "
                + "; ".join(f"{m.display} — {m.meaning}" for m in missing)
                + f". It exports {len(vllm_families)} vllm: families."
            ),
            suggestions=[
                "upgrade vLLM (these are exported by every release since the V1 "
                "engine; llmpod pins 0.32)",
                "if a proxy filters metrics, let these names through",
            ],
        )
