"""Run the vLLM child: start it, notice when it exits, stop it and its helpers.

Stdlib only (copied into the image).

vLLM runs in its own session (process group). Two reasons:

* a Ctrl-C in a terminal, or a signal sent to the entrypoint's group, must not
  reach vLLM directly — the entrypoint decides when vLLM stops (after draining);
* vLLM forks helpers (engine core, TP workers); stopping "the group" catches all
  of them, so nothing is left holding GPU memory when the container restarts.

As PID 1 in a container, the entrypoint also inherits orphaned grandchildren; it
reaps every exited child with ``waitpid(-1)`` so none stay zombies. That is also
how it learns vLLM's own exit status (``Popen.wait`` is never called, because a
reaped pid would make it report a false 0).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence

LogFn = Callable[..., None]


class VllmChild:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str], log: LogFn) -> None:
        self.argv = list(argv)
        self._env = dict(env)
        self._log = log
        self._popen: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        if self._popen is None:
            raise RuntimeError("vLLM was not started")
        return self._popen.pid

    def start(self) -> int:
        """Start vLLM; raises FileNotFoundError/PermissionError if the binary is unusable."""
        # stdout/stderr are inherited: vLLM's logs land in the container log as-is.
        self._popen = subprocess.Popen(self.argv, env=self._env, start_new_session=True)
        return self._popen.pid

    def poll(self) -> int | None:
        """Reap exited children; vLLM's exit code once it has exited, else None."""
        if self.returncode is not None or self._popen is None:
            return self.returncode
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return self.returncode
            if pid == 0:
                return self.returncode
            code = os.waitstatus_to_exitcode(status)
            if pid == self._popen.pid:
                self.returncode = code
                self._popen.returncode = code  # keeps Popen.__del__ from warning
            else:
                self._log("reap", pid=pid, exit_code=code)

    def running(self) -> bool:
        return self._popen is not None and self.poll() is None

    def send_signal(self, signum: int) -> None:
        if self.running():
            os.kill(self.pid, signum)

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def stop(self, timeout_s: float) -> int | None:
        """SIGTERM vLLM, wait up to ``timeout_s``, then SIGKILL whatever is left of its group.

        vLLM (0.32) handles SIGTERM itself and shuts its engine and workers down;
        the group-wide SIGKILL is only the backstop for helpers that outlive it.
        """
        if self._popen is None:
            return None
        self.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (self.running() or self._group_alive()):
            time.sleep(0.1)
        if self.running() or self._group_alive():
            self._log("exit", action="kill", reason=f"vLLM still running after {timeout_s}s")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            kill_deadline = time.monotonic() + 5.0
            while time.monotonic() < kill_deadline and self.running():
                time.sleep(0.05)
        return self.poll()
