"""Two views of one ``Report``: a JSON object for machines and text for people."""

from __future__ import annotations

import dataclasses
from typing import IO, Any

from llmpod.diagnose.analyze import Report
from llmpod.diagnose.histogram import Percentile
from llmpod.diagnose.whatif import Outcome, PlanSide
from llmpod.diagnose.window import GaugeStats, LatencyStats

PERCENTILE_METHOD = (
    "estimated from histogram buckets by linear interpolation within the "
    "bucket (as PromQL histogram_quantile); '≥' marks a rank in the +Inf "
    "bucket"
)
NO_BASELINE = "plan diff needs the current spec: add --stack S --service NAME, or --model M --gpu G"
_CACHE_KEYS = ("block_size", "cache_dtype", "kv_cache_size_tokens", "num_gpu_blocks")


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _pct(p: Percentile | None) -> dict[str, Any] | None:
    return None if p is None else {"value": _r(p.value), "at_least": p.at_least}


def _gauge(g: GaugeStats) -> dict[str, float | None]:
    return {k: _r(v) for k, v in sorted(dataclasses.asdict(g).items())}


def _latency(s: LatencyStats | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "observations": _r(s.observations),
        "p50": _pct(s.p50),
        "p95": _pct(s.p95),
        "p95_first_half": _pct(s.p95_first_half),
        "p95_second_half": _pct(s.p95_second_half),
    }


def _diff(before: PlanSide, after: PlanSide) -> dict[str, Any]:
    return {
        "gpus_total": after.gpus_total - before.gpus_total,
        "kv_cache_tokens": after.kv_cache_tokens - before.kv_cache_tokens,
        "max_concurrency": round(after.max_concurrency - before.max_concurrency, 2),
        "cost_per_hour": round(after.cost_per_hour - before.cost_per_hour, 2),
        "layout": (before.layout, after.layout),
        "replicas": after.replicas - before.replicas,
    }


def to_json(r: Report) -> dict[str, Any]:
    w = r.stats
    by_change = {id(o.change): o for o in r.outcomes}
    changes = []
    for c in r.changes:
        item: dict[str, Any] = {
            "lever": c.lever,
            "value": c.value,
            "why": c.why,
            "spec_patch": dict(c.spec_patch),
            "plan_flags": list(c.plan_flags),
            "note": c.note,
        }
        o: Outcome | None = by_change.get(id(c))
        if o is not None and r.before is not None:
            item["plan"] = o.after.as_json() if o.after else None
            item["diff"] = _diff(r.before, o.after) if o.after else None
            item["refused"] = o.refused or None
        changes.append(item)
    return {
        "source": r.source,
        "regime": r.diagnosis.regime,
        "summary": r.diagnosis.summary,
        "evidence": list(r.diagnosis.evidence),
        "window": {
            "scrapes": w.scrapes,
            "seconds": _r(w.seconds),
            "metric_names": dict(w.metric_sources),
            "percentile_method": PERCENTILE_METHOD,
        },
        "metrics": {
            "running": _gauge(w.running),
            "waiting": _gauge(w.waiting),
            "kv_cache_usage": _gauge(w.kv_usage),
            "kv_full_with_queue_share": _r(w.kv_full_with_queue_share),
            "preemptions": _r(w.preemptions),
            "requests_finished": _r(w.requests_finished),
            "prompt_tokens_per_s": _r(w.prompt_tokens_per_s),
            "generation_tokens_per_s": _r(w.generation_tokens_per_s),
            "generation_tokens_per_s_halves": [
                _r(w.generation_tokens_per_s_first_half),
                _r(w.generation_tokens_per_s_second_half),
            ],
            "ttft_s": _latency(w.ttft),
            "ttft_mean_s": _r(w.ttft_mean_s),
            "queue_time_mean_s": _r(w.queue_time_mean_s),
            "prompt_tokens_per_request": _r(w.prompt_tokens_per_request),
            "lone_request_ttft_s": (
                None
                if w.lone_ttft is None
                else {
                    "mean": _r(w.lone_ttft.mean_s),
                    "observations": _r(w.lone_ttft.observations),
                    "prompt_tokens": _r(w.lone_ttft.prompt_tokens),
                }
            ),
            "inter_token_latency_s": _latency(w.itl),
            "queue_time_s": _latency(w.queue_time),
            "spec_decode_acceptance": _r(w.spec_acceptance),
        },
        "kv_cache": {k: w.cache_info[k] for k in _CACHE_KEYS if k in w.cache_info},
        "baseline": ({"label": r.baseline_label, "plan": r.before.as_json()} if r.before else None),
        "changes": changes,
        "replan": r.replan.as_json() if r.replan else None,
        "plan_diff_note": None if r.before else NO_BASELINE,
    }


def _money(x: float) -> str:
    return f"{'+' if x > 0 else '-' if x < 0 else '±'}${abs(x):,.2f}/h"


def _side_line(s: PlanSide) -> str:
    return (
        f"{s.replicas} × {s.layout} on {s.gpu} = {s.gpus_total} GPUs, "
        f"{s.kv_cache_tokens:,} KV tokens/replica, ${s.cost_per_hour:,.2f}/h"
    )


def write_text(r: Report, out: IO[str]) -> None:
    w = r.stats
    out.write(f"{r.diagnosis.regime.upper()}: {r.diagnosis.summary}\n")
    out.write(f"  window: {w.scrapes} scrapes over {w.seconds:.0f} s of {r.source}\n")
    for line in r.diagnosis.evidence:
        out.write(f"  - {line}\n")
    out.write(f"  (percentiles {PERCENTILE_METHOD})\n")
    old = sorted(
        v
        for v in w.metric_sources.values()
        if v.endswith(("gpu_cache_usage_perc", "time_per_output_token_seconds"))
    )
    if old:
        out.write(f"  (older vLLM metric names used: {', '.join(old)})\n")
    if w.spec_acceptance is not None:
        out.write(
            f"  speculative decoding: {w.spec_acceptance:.0%} of proposed draft tokens accepted "
            f"(plan with it: vllm.speculative_acceptance_rate: {w.spec_acceptance:.2f})\n"
        )
    if not r.changes:
        out.write("\nNo change recommended.\n")
        return
    out.write("\nRecommended changes, most direct first:\n")
    if r.before is not None:
        out.write(f"  now ({r.baseline_label}): {_side_line(r.before)}\n")
    outcomes = {id(o.change): o for o in r.outcomes}
    for i, c in enumerate(r.changes, start=1):
        patch = ", ".join(f"{k}: {v}" for k, v in sorted(c.spec_patch.items()))
        out.write(f"  {i}. {c.lever} → {c.value}: {c.why}\n")
        if patch:
            out.write(f"     spec: {patch}\n")
        if c.note:
            out.write(f"     note: {c.note}\n")
        o = outcomes.get(id(c))
        if o is not None and r.before is not None:
            if o.after is None:
                out.write(f"     planner: refused — {o.refused}\n")
            else:
                d = _diff(r.before, o.after)
                out.write(
                    f"     plan: {_side_line(o.after)} "
                    f"({d['gpus_total']:+d} GPUs, {d['kv_cache_tokens']:+,} KV tokens, "
                    f"{_money(d['cost_per_hour'])})\n"
                )
    if r.before is None:
        out.write(f"  ({NO_BASELINE})\n")
    if r.replan is not None:
        out.write(f"\nRe-planned for the observed traffic: {r.replan.line()}\n")
