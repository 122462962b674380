"""The classifier on the H200 recordings: expected regime (from the load) vs predicted.

Each recording in tests/fixtures/h200/<load>/ was taken while a known load ran
(its load.json). The regime each load *should* produce is reasoned from the load
alone, before looking at the classifier, and kept with its reason in
tests/fixtures/h200/expected_regimes.json. This prints, per recording, the
figures the classifier rests on and both predictions: from the window alone, and
with the unloaded TTFT of the same server (its one-stream recording) as
reference; then the confusion table of the second.

    python benchmarks/diagnose_confusion.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from llmpod.diagnose import recording
from llmpod.diagnose.analyze import snapshots
from llmpod.diagnose.classify import classify
from llmpod.diagnose.window import LoneTtft, WindowStats, lone_ttft, window_stats

H200 = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "h200"
REGIMES = ("idle", "healthy", "latency-bound", "throughput-bound", "memory-bound")


def recording_of(load_dir: Path) -> list[Path]:
    found = sorted([*load_dir.glob("recording.jsonl"), *load_dir.glob("recording.jsonl.gz")])
    if not found:
        raise SystemExit(f"{load_dir}: no recording.jsonl[.gz]")
    return found[:1]


def stats_of(load_dir: Path) -> WindowStats:
    return window_stats(snapshots(recording.load(recording_of(load_dir))))


def reference_of(load_dir: Path) -> LoneTtft | None:
    return lone_ttft(snapshots(recording.load(recording_of(load_dir))))


def rows() -> tuple[list[dict[str, Any]], LoneTtft | None]:
    expected = json.loads((H200 / "expected_regimes.json").read_text())
    reference = reference_of(H200 / expected["reference"])
    out = []
    for load, entry in sorted(expected["loads"].items()):
        w = stats_of(H200 / load)
        alone = classify(w).regime
        with_ref = classify(w, reference=reference)
        queued = (
            w.queue_time_mean_s / w.ttft_mean_s
            if w.queue_time_mean_s is not None and w.ttft_mean_s
            else None
        )
        out.append({
            "load": load,
            "expected": entry["regime"],
            "predicted": with_ref.regime,
            "predicted_without_reference": alone,
            "why_expected": entry["why"],
            "evidence": list(with_ref.evidence),
            "scrapes": w.scrapes,
            "seconds": round(w.seconds, 1),
            "queue_share": round(w.waiting.nonzero_share, 3),
            "waiting_peak": w.waiting.peak,
            "running_mean": round(w.running.mean, 1),
            "kv_peak": round(w.kv_usage.peak, 3),
            "preemptions": w.preemptions,
            "generation_tokens_per_s": round(w.generation_tokens_per_s, 1),
            "prompt_tokens_per_s": round(w.prompt_tokens_per_s, 1),
            "prompt_tokens_per_request": _r(w.prompt_tokens_per_request),
            "ttft_mean_ms": _ms(w.ttft_mean_s),
            "ttft_p50_ms": _ms(w.ttft.p50.value if w.ttft.p50 else None),
            "queue_time_mean_ms": _ms(w.queue_time_mean_s),
            "queued_share_of_ttft": _r(queued),
        })  # fmt: skip
    return out, reference


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x * 1000, 1)


def confusion(table: list[dict[str, Any]], key: str = "predicted") -> dict[str, dict[str, int]]:
    counts = Counter((r["expected"], r[key]) for r in table)
    return {e: {p: counts[(e, p)] for p in REGIMES} for e in REGIMES}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ns = ap.parse_args(argv)
    table, reference = rows()
    if ns.json:
        print(json.dumps({"rows": table, "confusion": confusion(table)}, indent=2))
        return 0
    ref = (
        f"{reference.mean_s * 1000:.1f} ms over {reference.observations:.0f} requests of "
        f"~{reference.prompt_tokens:.0f} prompt tokens"
        if reference and reference.prompt_tokens
        else "none"
    )
    print(f"unloaded TTFT reference (one-stream recording): {ref}\n")
    head = ("load", "expected", "predicted", "alone", "queue%", "ttft ms", "queued%", "kv",
            "preempt", "gen tok/s")  # fmt: skip
    print(" | ".join(head))
    for r in table:
        queued = r["queued_share_of_ttft"]
        print(" | ".join(str(x) for x in (
            r["load"], r["expected"], r["predicted"], r["predicted_without_reference"],
            f"{r['queue_share']:.0%}", r["ttft_mean_ms"],
            "n/a" if queued is None else f"{queued:.0%}", f"{r['kv_peak']:.0%}",
            f"{r['preemptions']:.0f}", r["generation_tokens_per_s"],
        )))  # fmt: skip
    print("\nconfusion (rows: expected from the load; columns: predicted with reference)")
    matrix = confusion(table)
    print("expected \\ predicted | " + " | ".join(REGIMES))
    for e in REGIMES:
        if any(matrix[e].values()):
            print(f"{e} | " + " | ".join(str(matrix[e][p]) for p in REGIMES))
    hits = sum(1 for r in table if r["expected"] == r["predicted"])
    print(f"\n{hits}/{len(table)} recordings classified as their load predicts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
