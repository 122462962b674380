"""The workload read back from vLLM's metrics is the one the load generator sent.

Ground truth is each recording's load.json (written by the H200 load generator:
exact token-id prompts, ignore_eos, so every request is exactly that long).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmpod.diagnose.analyze import snapshots
from llmpod.diagnose.recording import load
from llmpod.diagnose.workload import observed_workload
from llmpod.errors import LlmpodError

H200 = Path(__file__).resolve().parents[1] / "fixtures" / "h200"


@pytest.mark.parametrize(
    "name", ["closed_c8", "closed_c64", "decode_heavy", "prefill_heavy", "burst_600_then_idle"]
)
def test_lengths_and_rate_match_what_the_client_sent(name: str) -> None:
    doc = json.loads((H200 / name / "load.json").read_text())
    sent, client = doc["load"], doc["client"]
    seen = observed_workload(snapshots(load([H200 / name / "recording.jsonl.gz"])), source=name)
    assert seen.prompt_tokens_mean == pytest.approx(sent["prompt_tokens"])
    assert seen.output_tokens_mean == pytest.approx(sent["max_tokens"])
    # Requests the server finished in its window vs those the client saw complete.
    assert seen.requests == pytest.approx(client["completed"], rel=0.05, abs=2)
    assert seen.prefix_hit == 0.0  # random token ids: nothing to reuse
    if sent["kind"] == "closed":
        assert seen.in_system_mean <= sent["concurrency"]


def test_a_window_where_nothing_finished_is_refused_with_the_way_out() -> None:
    with pytest.raises(LlmpodError, match="no request finished") as err:
        observed_workload(snapshots(load([H200 / "idle" / "recording.jsonl.gz"])), source="idle")
    assert any("--input-len" in s for s in err.value.suggestions)
