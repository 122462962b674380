"""The workload a server actually served, read from vLLM's own metrics (pure).

``llmpod plan --workload-from RECORDING`` plans for this instead of a guess:
the prompt and output lengths of the requests that finished in the window
(``vllm:request_prompt_tokens`` / ``vllm:request_generation_tokens``
histograms: mean and p90), how many were in the server at once (running +
waiting, averaged over the scrapes), the rate requests finished at, and the
share of prompt tokens the prefix cache served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llmpod.diagnose.histogram import mean, percentile
from llmpod.diagnose.snapshot import Snapshot
from llmpod.diagnose.window import counter_delta
from llmpod.errors import LlmpodError


@dataclass(frozen=True)
class ObservedWorkload:
    seconds: float
    requests: float
    prompt_tokens_mean: float
    prompt_tokens_p90: float | None
    output_tokens_mean: float
    output_tokens_p90: float | None
    #: Requests in the server (running + waiting), mean over the scrapes.
    in_system_mean: float
    requests_per_s: float
    prefix_hit: float | None


def _histogram_window(series: Sequence[Snapshot], key: str) -> tuple[float, float | None] | None:
    if any(key not in s.histograms for s in series):
        return None
    whole = series[-1].histograms[key].minus(series[0].histograms[key])
    average = mean(whole)
    if average is None:
        return None
    p90 = percentile(whole, 0.90)
    return average, (p90.value if p90 is not None else None)


def observed_workload(series: Sequence[Snapshot], *, source: str) -> ObservedWorkload:
    """What ``series`` (oldest first, ≥ 2 scrapes) shows was served."""
    ordered = sorted(series, key=lambda s: s.timestamp)
    seconds = ordered[-1].timestamp - ordered[0].timestamp if ordered else 0.0
    prompt = _histogram_window(ordered, "request_prompt_tokens")
    output = _histogram_window(ordered, "request_generation_tokens")
    finished = (
        ordered[-1]
        .histograms["request_generation_tokens"]
        .minus(ordered[0].histograms["request_generation_tokens"])
        .count
        if output is not None
        else 0.0
    )
    if seconds <= 0 or prompt is None or output is None or finished < 1:
        raise LlmpodError(
            code="no_workload_in_recording",
            message=(
                f"{source}: no request finished between its first and last scrape "
                f"({len(ordered)} scrapes over {seconds:.1f} s), so it shows no prompt and "
                "output lengths to plan for."
            ),
            suggestions=[
                "record a longer window under real traffic: llmpod diagnose URL --window 10m "
                "--save FILE",
                "or give the lengths: --input-len N --output-len N",
            ],
        )
    queries = (
        counter_delta([s.values["prefix_cache_queries"] for s in ordered])
        if all("prefix_cache_queries" in s.values for s in ordered)
        else 0.0
    )
    hits = (
        counter_delta([s.values["prefix_cache_hits"] for s in ordered])
        if all("prefix_cache_hits" in s.values for s in ordered)
        else 0.0
    )
    in_system = [s.values["running"] + s.values["waiting"] for s in ordered]
    return ObservedWorkload(
        seconds=seconds,
        requests=finished,
        prompt_tokens_mean=prompt[0],
        prompt_tokens_p90=prompt[1],
        output_tokens_mean=output[0],
        output_tokens_p90=output[1],
        in_system_mean=sum(in_system) / len(in_system),
        requests_per_s=finished / seconds,
        prefix_hit=hits / queries if queries > 0 else None,
    )
