"""Graceful drain after SIGTERM: stop being ready, let in-flight requests finish, stop vLLM.

Stdlib only (copied into the image).

Timeline, all inside ``LLMPOD_DRAIN_TIMEOUT_S`` from the signal:

1. at once: phase ``draining``, ``/ready`` 503, ready-file removed;
2. for ``LLMPOD_DRAIN_PROPAGATION_S``: vLLM keeps serving *new* requests too,
   because Kubernetes removes the pod from Service endpoints asynchronously —
   traffic keeps arriving for a few seconds after SIGTERM, and refusing it would
   turn every rollout into a burst of client errors;
3. until vLLM reports no running and no waiting request (``/metrics`` gauges
   ``vllm:num_requests_running`` + ``vllm:num_requests_waiting``) or the budget
   runs out;
4. SIGTERM to vLLM, SIGKILL to its process group after ``LLMPOD_VLLM_STOP_TIMEOUT_S``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from . import vllm_http
from .ready_file import remove_ready_file
from .settings import Settings
from .state import LifecycleState
from .supervisor import VllmChild

LogFn = Callable[..., None]
_POLL_S = 0.5


class SignalsLike(Protocol):
    count: int
    last: str | None


def inflight(settings: Settings) -> int | None:
    """Requests vLLM is still working on; None when it cannot tell us."""
    try:
        result = vllm_http.request(f"{settings.vllm_base_url}/metrics", timeout=5.0)
    except vllm_http.VllmUnreachable:
        return None
    if result.status != 200:
        return None
    return vllm_http.inflight_requests(result.text())


def _wait_propagation(
    settings: Settings, signals: SignalsLike, child: VllmChild, deadline: float
) -> None:
    until = min(time.monotonic() + settings.drain_propagation_s, deadline)
    while time.monotonic() < until and signals.count < 2 and child.running():
        time.sleep(0.1)


def _wait_idle(
    settings: Settings, signals: SignalsLike, child: VllmChild, deadline: float, log: LogFn
) -> str:
    """Why waiting ended: idle, timeout, unknown (no metrics), vllm_exited, second_signal."""
    last_logged: int | None = -1
    while True:
        if signals.count >= 2:
            return "second_signal"
        if not child.running():
            return "vllm_exited"
        count = inflight(settings)
        if count is None:
            return "unknown"
        if count != last_logged:
            log("drain", action="waiting", inflight=count)
            last_logged = count
        if count == 0:
            return "idle"
        if time.monotonic() >= deadline:
            return "timeout"
        time.sleep(_POLL_S)


def drain_then_stop(
    settings: Settings,
    state: LifecycleState,
    signals: SignalsLike,
    child: VllmChild,
    log: LogFn,
) -> int:
    """Run the drain; always ends with vLLM stopped and returns 0 (a requested stop)."""
    started = time.monotonic()
    deadline = started + settings.drain_timeout_s
    state.advance("draining", reason=f"received {signals.last}")
    remove_ready_file(settings.ready_file)
    log(
        "drain",
        action="start",
        signal=signals.last,
        propagation_s=settings.drain_propagation_s,
        timeout_s=settings.drain_timeout_s,
    )
    _wait_propagation(settings, signals, child, deadline)
    why = _wait_idle(settings, signals, child, deadline, log)
    log("drain", action="end", why=why, waited_s=round(time.monotonic() - started, 3))
    state.advance("stopping")
    code = child.stop(settings.vllm_stop_timeout_s)
    state.set_child("exited")
    log("exit", code=0, vllm_exit_code=code, total_drain_s=round(time.monotonic() - started, 3))
    return 0
