"""The API-server fit (benchmarks/frontend_fit.py) counts what the recordings' clients sent.

The fit regresses the API server's CPU on vLLM's server-side counters; its request
column must count each request once whatever its prompt. The clients' own tally
(``requests_sent`` in each recording's load.json) is independent of those counters.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "h200"
#: The load recordings (the idle one has no requests and is not fitted).
LOADS = sorted(
    p.parent.name for p in FIXTURES.glob("*/recording.jsonl.gz") if p.parent.name != "idle"
)


def _frontend_fit() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "frontend_fit", ROOT / "benchmarks" / "frontend_fit.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up by name while they are being built.
    sys.modules.setdefault("frontend_fit", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def counted() -> Counter[str]:
    fit = _frontend_fit()
    requests = fit.TERMS.index("request_s")
    totals: Counter[str] = Counter()
    for interval in fit.intervals():
        totals[interval.recording] += interval.row[requests]
    return totals


def test_every_load_recording_is_in_the_fit(counted: Counter[str]) -> None:
    assert set(counted) == set(LOADS) and len(LOADS) == 8


@pytest.mark.parametrize("name", LOADS)
def test_the_fit_counts_each_request_the_clients_sent_once(
    counted: Counter[str], name: str
) -> None:
    sent = json.loads((FIXTURES / name / "load.json").read_text())
    # A request the clients sent in the last half second may not have reached the
    # engine's gauges by the last scrape (prefill_heavy: 159 of 162).
    assert counted[name] == pytest.approx(sent["client"]["requests_sent"], rel=0.02)
