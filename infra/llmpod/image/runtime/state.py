"""The entrypoint's lifecycle as a small state machine, shared with the probe server.

Stdlib only (copied into the image). Phases, in order::

    init ─► load ─► warmup ─► ready ─► draining ─► stopping
      │       │        │                  ▲
      └───────┴────────┴─► failed ────────┘

* ``init``: reading the plan; vLLM not started.
* ``load``: vLLM started, weights loading; waiting for its ``/health``.
* ``warmup``: vLLM healthy; warmup requests running.
* ``ready``: warmup done; the only phase in which ``/ready`` is 200.
* ``failed``: something the entrypoint cannot fix by itself (bad plan, warmup
  failing); stays up, not ready, with the reason in ``/status``.
* ``draining``: SIGTERM received; vLLM still serving in-flight requests.
* ``stopping``: vLLM being stopped.

Readiness also requires vLLM's own ``/health`` to keep passing after warmup, so
a vLLM that stops answering leaves the load balancer without a restart storm.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

PHASES = ("init", "load", "warmup", "ready", "failed", "draining", "stopping")

_ALLOWED: dict[str, tuple[str, ...]] = {
    "init": ("load", "failed", "draining"),
    "load": ("warmup", "failed", "draining"),
    "warmup": ("ready", "failed", "draining"),
    "ready": ("draining",),
    "failed": ("draining",),
    "draining": ("stopping",),
    "stopping": (),
}


class TransitionError(RuntimeError):
    """A programming error: the entrypoint tried an impossible phase change."""


@dataclass
class LifecycleState:
    """Thread-safe: the main loop writes, the probe server's threads read."""

    phase: str = "init"
    reason: str | None = None
    vllm_pid: int | None = None
    #: "not_started" | "running" | "exited"
    child: str = "not_started"
    vllm_healthy: bool = False
    warmup: dict[str, Any] = field(default_factory=dict)
    #: The arguments after ``vllm serve`` (the plan's, without host and port).
    vllm_args: tuple[str, ...] = ()
    #: The comparison of what vLLM reports with the plan, once ready (plan_check.py).
    plan_check: dict[str, Any] | None = None
    phase_since: dict[str, float] = field(default_factory=dict)
    #: Set from the signal handler without the lock (see ``request_stop``).
    stop_requested: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.phase_since.setdefault(self.phase, time.time())

    def advance(self, phase: str, reason: str | None = None) -> None:
        with self._lock:
            if phase not in _ALLOWED[self.phase]:
                raise TransitionError(f"cannot go from phase {self.phase!r} to {phase!r}")
            self.phase = phase
            self.phase_since[phase] = time.time()
            if reason is not None:
                self.reason = reason

    def set_child(self, child: str, pid: int | None = None) -> None:
        with self._lock:
            self.child = child
            if pid is not None:
                self.vllm_pid = pid

    def set_vllm_healthy(self, healthy: bool) -> None:
        with self._lock:
            self.vllm_healthy = healthy

    def set_warmup(self, summary: dict[str, Any]) -> None:
        with self._lock:
            self.warmup = dict(summary)

    def set_vllm_args(self, args: tuple[str, ...]) -> None:
        with self._lock:
            self.vllm_args = tuple(args)

    def set_plan_check(self, result: dict[str, Any]) -> None:
        with self._lock:
            self.plan_check = dict(result)

    def request_stop(self) -> None:
        """Withdraw readiness at once; safe to call from a signal handler.

        A plain attribute store (atomic under the GIL) instead of taking ``_lock``:
        the handler interrupts the main thread, which may be holding that lock.
        """
        self.stop_requested = True

    def _ready_unlocked(self) -> bool:
        return self.phase == "ready" and self.vllm_healthy and not self.stop_requested

    def is_ready(self) -> bool:
        """Serve traffic only after warmup, never while draining, only while vLLM is healthy."""
        with self._lock:
            return self._ready_unlocked()

    def is_live(self) -> bool:
        """False only when restarting the container is the fix: the vLLM child is gone.

        ``failed`` before vLLM ever started (a bad plan) stays live on purpose:
        a restart reads the same plan again, so it would only add a crash loop
        on top of the clear error already in the logs and ``/status``.
        """
        with self._lock:
            return self.child != "exited"

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "phase": self.phase,
                "reason": self.reason,
                "ready": self._ready_unlocked(),
                "stop_requested": self.stop_requested,
                "live": self.child != "exited",
                "vllm_pid": self.vllm_pid,
                "vllm_child": self.child,
                "vllm_healthy": self.vllm_healthy,
                "phase_since": dict(sorted(self.phase_since.items())),
                "warmup": dict(self.warmup),
                "vllm_args": list(self.vllm_args),
                "plan_check": self.plan_check,
            }
