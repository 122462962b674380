"""Scrapes in, a diagnosis with its evidence and costed changes out (no I/O).

``Baseline`` is the service as it runs today (its plan request and plan) when
the user named it with ``--stack/--service`` or ``--model/--gpu``; without it,
changes are described relative to the current values and carry no plan diff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llmpod.diagnose.changes import Change, propose
from llmpod.diagnose.classify import Diagnosis, classify
from llmpod.diagnose.replan import Replan, replan_for_traffic
from llmpod.diagnose.scrape import RawScrape
from llmpod.diagnose.snapshot import Snapshot, parse_exposition, require_vllm
from llmpod.diagnose.whatif import Outcome, PlanSide, current_of, side, what_if
from llmpod.diagnose.window import LoneTtft, WindowStats, window_stats
from llmpod.planner.evaluate import Evaluation
from llmpod.planner.plan import Plan
from llmpod.planner.request import PlanRequest


@dataclass(frozen=True)
class Baseline:
    label: str
    request: PlanRequest
    plan: Plan
    #: ``plan.evaluation`` of the (always feasible) current plan.
    evaluation: Evaluation


@dataclass(frozen=True)
class Report:
    source: str
    stats: WindowStats
    diagnosis: Diagnosis
    changes: tuple[Change, ...]
    baseline_label: str | None
    before: PlanSide | None
    #: One per change when a baseline was given, else empty.
    outcomes: tuple[Outcome, ...]
    #: The baseline re-planned for the traffic the window shows (diagnose/replan.py).
    replan: Replan | None = None


def snapshots(raw: Sequence[RawScrape]) -> list[Snapshot]:
    out = []
    for scrape in raw:
        snap = parse_exposition(scrape.text, scrape.timestamp, origin=scrape.origin)
        require_vllm(snap, origin=scrape.origin)
        out.append(snap)
    return out


def check_first(scrape: RawScrape) -> None:
    """Fail on a non-vLLM page before waiting out the whole window."""
    snapshots([scrape])


def analyze(
    raw: Sequence[RawScrape],
    *,
    source: str,
    baseline: Baseline | None = None,
    ttft_target_s: float | None = None,
    unloaded_ttft_s: float | None = None,
    reference: LoneTtft | None = None,
) -> Report:
    series = snapshots(raw)
    stats = window_stats(series)
    if unloaded_ttft_s is not None:
        reference = LoneTtft(mean_s=unloaded_ttft_s, observations=0, prompt_tokens=None)
    diagnosis = classify(stats, ttft_target_s, reference)
    current = current_of(baseline.request, baseline.plan, baseline.evaluation) if baseline else None
    changes = propose(diagnosis, stats, current)
    outcomes = what_if(baseline.request, current, changes) if baseline and current else []
    replan = (
        replan_for_traffic(baseline.request, baseline.plan, series, ttft_target_s)
        if baseline
        else None
    )
    return Report(
        source=source,
        stats=stats,
        diagnosis=diagnosis,
        changes=tuple(changes),
        baseline_label=baseline.label if baseline else None,
        before=side(baseline.plan, baseline.evaluation) if baseline else None,
        outcomes=tuple(outcomes),
        replan=replan,
    )
