"""The classifier on recordings of vLLM 0.26 on an H200 under known loads (deterministic).

tests/fixtures/h200/<load>/ holds the recording (diagnose --save format) and the
load that produced it; expected_regimes.json gives the regime each load should
produce, reasoned from the load, and why. The unloaded TTFT reference is the
same server's one-stream recording.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from llmpod.diagnose import recording
from llmpod.diagnose.analyze import snapshots
from llmpod.diagnose.classify import classify
from llmpod.diagnose.snapshot import Snapshot
from llmpod.diagnose.window import LoneTtft, lone_ttft, window_stats

H200 = Path(__file__).resolve().parents[1] / "fixtures" / "h200"
EXPECTED = json.loads((H200 / "expected_regimes.json").read_text())


def _recording(load: str) -> Path:
    (path,) = [p for p in (H200 / load).glob("recording.jsonl*") if p.suffix in (".jsonl", ".gz")]
    return path


@functools.cache
def _series(load: str) -> tuple[Snapshot, ...]:
    """Parsed once per session: the recordings are a few MB of exposition each."""
    return tuple(snapshots(recording.load([_recording(load)])))


def _reference() -> LoneTtft:
    ref = lone_ttft(_series(EXPECTED["reference"]))
    assert ref is not None
    return ref


def test_every_load_has_a_recording_and_an_expectation() -> None:
    on_disk = {p.parent.name for p in H200.glob("*/recording.jsonl*")}
    assert on_disk == set(EXPECTED["loads"])


def test_unloaded_reference_is_the_lone_stream() -> None:
    # one_stream: one client, 512-token prompts; the client measured TTFT p50 19 ms.
    ref = _reference()
    assert ref.prompt_tokens == 512
    assert 0.010 < ref.mean_s < 0.030


@pytest.mark.parametrize("load", sorted(EXPECTED["loads"]))
def test_each_load_gets_its_regime(load: str) -> None:
    w = window_stats(_series(load))
    d = classify(w, reference=_reference())
    assert d.regime == EXPECTED["loads"][load]["regime"], d.evidence


def test_saturation_is_throughput_bound_even_without_a_reference() -> None:
    """Issue 12's miss: 256 closed-loop clients were called HEALTHY. The queue time
    alone names it: requests spent most of their TTFT waiting for a slot."""
    w = window_stats(_series("closed_c256_saturation"))
    d = classify(w)
    assert d.regime == "throughput-bound"
    assert any("of their time to first token queued" in e for e in d.evidence), d.evidence
    assert w.queue_time_mean_s is not None and w.ttft_mean_s is not None
    assert w.queue_time_mean_s / w.ttft_mean_s >= 0.5
    assert 0.2 <= w.waiting.nonzero_share < 0.5  # a recurring, not a standing, queue


def test_cli_reference_recording_gives_the_unloaded_ttft(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """c64 alone looks healthy (no queue to speak of); with the same server's
    one-stream recording as reference its TTFT is ×26 the unloaded one."""
    from llmpod.cli.main import main

    c64, alone = str(_recording("closed_c64")), str(_recording("one_stream"))
    assert main(["diagnose", "--from-file", c64, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["regime"] == "healthy"
    assert main(["diagnose", "--from-file", c64, "--reference", alone, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["regime"] == "latency-bound"
    assert "this server's unloaded 17 ms" in body["evidence"][0]


def test_cli_reference_without_lone_requests_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from llmpod.cli.main import main

    busy = str(_recording("closed_c256_saturation"))
    code = main(["diagnose", "--from-file", busy, "--reference", busy, "--json"])
    body = json.loads(capsys.readouterr().out)
    assert code == 1 and body["error"]["code"] == "no_reference"
    assert "had a request served alone" in body["error"]["message"]
