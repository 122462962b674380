"""Lifecycle phases and what the probe server answers in each."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from llmpod.image.runtime.state import LifecycleState, TransitionError
from llmpod.image.runtime.status_server import StatusServer

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str) -> tuple[int, bytes]:
    try:
        with _OPENER.open(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def served() -> Iterator[tuple[LifecycleState, str]]:
    state = LifecycleState()
    server = StatusServer(state, "127.0.0.1", 0)
    server.start()
    try:
        yield state, f"http://127.0.0.1:{server.port}"
    finally:
        server.close()


def _codes(base: str) -> dict[str, int]:
    return {p: _get(base + p)[0] for p in ("/ready", "/health", "/live")}


def test_probe_answers_through_a_normal_life(served: tuple[LifecycleState, str]) -> None:
    state, base = served
    assert _codes(base) == {"/ready": 503, "/health": 503, "/live": 200}
    state.set_child("running", pid=4242)
    state.advance("load")
    assert _codes(base) == {"/ready": 503, "/health": 503, "/live": 200}
    state.set_vllm_healthy(True)
    state.advance("warmup")
    # vLLM is healthy but not warmed up: still no traffic.
    assert _codes(base) == {"/ready": 503, "/health": 503, "/live": 200}
    state.set_warmup({"total_s": 1.5, "requests": [{"step": "prompt_128", "duration_s": 0.5}]})
    state.advance("ready")
    assert _codes(base) == {"/ready": 200, "/health": 200, "/live": 200}
    state.advance("draining", reason="received SIGTERM")
    # Draining: out of the load balancer at once, but never killed by liveness.
    assert _codes(base) == {"/ready": 503, "/health": 503, "/live": 200}
    state.advance("stopping")
    state.set_child("exited")
    assert _codes(base)["/live"] == 503


def test_readiness_follows_vllm_health_after_warmup(served: tuple[LifecycleState, str]) -> None:
    state, base = served
    for phase in ("load", "warmup", "ready"):
        state.advance(phase)
    state.set_vllm_healthy(True)
    assert _get(base + "/ready")[0] == 200
    state.set_vllm_healthy(False)
    assert _get(base + "/ready")[0] == 503
    assert _get(base + "/live")[0] == 200


def test_failed_before_start_is_not_ready_but_live(served: tuple[LifecycleState, str]) -> None:
    state, base = served
    state.advance("failed", reason="plan file /etc/llmpod/plan.json does not exist.")
    assert _codes(base) == {"/ready": 503, "/health": 503, "/live": 200}
    code, body = _get(base + "/status")
    assert code == 200
    status = json.loads(body)
    assert status["phase"] == "failed"
    assert status["reason"] == "plan file /etc/llmpod/plan.json does not exist."
    assert status["ready"] is False


def test_status_reports_phase_pid_and_warmup(served: tuple[LifecycleState, str]) -> None:
    state, base = served
    state.set_child("running", pid=31337)
    state.advance("load")
    state.set_warmup({"total_s": 2.0, "requests": []})
    status = json.loads(_get(base + "/status")[1])
    assert (status["phase"], status["vllm_pid"], status["vllm_child"]) == ("load", 31337, "running")
    assert status["warmup"] == {"total_s": 2.0, "requests": []}
    assert set(status["phase_since"]) == {"init", "load"}


def test_unknown_path_lists_the_probe_paths(served: tuple[LifecycleState, str]) -> None:
    _, base = served
    code, body = _get(base + "/readyz")
    assert code == 404
    assert b"/ready /live /health /status" in body


def test_head_requests_work_for_probes(served: tuple[LifecycleState, str]) -> None:
    _state, base = served
    req = urllib.request.Request(base + "/live", method="HEAD")
    with _OPENER.open(req, timeout=5) as resp:
        assert resp.status == 200 and resp.read() == b""


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (("load", "warmup", "ready"), "warmup"),
        (("load",), "ready"),
        (("draining",), "ready"),
        (("failed",), "ready"),
    ],
)
def test_impossible_transitions_raise(path: tuple[str, ...], target: str) -> None:
    state = LifecycleState()
    for phase in path:
        state.advance(phase)
    with pytest.raises(TransitionError, match=rf"cannot go from phase '{path[-1]}' to '{target}'"):
        state.advance(target)


def test_stop_request_withdraws_readiness_before_the_phase_changes(
    served: tuple[LifecycleState, str],
) -> None:
    state, base = served
    for phase in ("load", "warmup", "ready"):
        state.advance(phase)
    state.set_vllm_healthy(True)
    assert _get(base + "/ready")[0] == 200
    state.request_stop()  # what the SIGTERM handler does, before the main loop reacts
    assert state.phase == "ready"
    assert _get(base + "/ready")[0] == 503
    assert json.loads(_get(base + "/status")[1])["stop_requested"] is True
