"""SIGTERM/SIGINT handling: withdraw readiness at once, let the main loop drain.

Stdlib only (copied into the image).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType

from .ready_file import remove_ready_file
from .state import LifecycleState
from .supervisor import VllmChild

#: Passed on to vLLM unchanged; SIGTERM/SIGINT instead start llmpod's drain.
FORWARDED = (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)


class StopFlag:
    """Set by the SIGTERM/SIGINT handler; read by the main loop and the warmup thread.

    Deliberately lock-free (a plain attribute, polled): a Python signal handler runs
    in the main thread between bytecodes, so taking a lock there — threading.Event
    takes one — deadlocks if the main thread happened to hold that lock.
    """

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._set and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)
        return self._set


class Signals:
    """Records SIGTERM/SIGINT from the handler; the main loop acts on them."""

    def __init__(self, state: LifecycleState, ready_file: Path) -> None:
        self.stop = StopFlag()
        self._ready_file = ready_file
        self.count = 0
        self.last: str | None = None
        self.child: VllmChild | None = None
        self._state = state

    def _on_stop(self, signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        self.last = signal.Signals(signum).name
        # Readiness drops here, not when the main loop notices: the load balancer
        # must stop sending traffic the moment the pod is told to go.
        self._state.request_stop()
        remove_ready_file(self._ready_file)  # one unlink; no locks involved
        self.stop.set()

    def _on_forward(self, signum: int, _frame: FrameType | None) -> None:
        if self.child is not None:
            self.child.send_signal(signum)

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        for signum in FORWARDED:
            signal.signal(signum, self._on_forward)
