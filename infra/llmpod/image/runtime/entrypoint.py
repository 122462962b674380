"""llmpod's container entrypoint: run `vllm serve` with the plan's arguments, warm it up,
report readiness, drain on SIGTERM.

Stdlib only: it runs inside the official vLLM image with that image's python, where
llmpod is not installed. The image copies this package as ``llmpod_image`` and runs
``python3 -m llmpod_image.entrypoint`` (see ``build_context.py``).

What happens, and how it ends (exit codes are chosen so that Kubernetes restarts
the container only when a restart can help):

* SIGTERM / SIGINT at any point: not ready at once, drain, stop vLLM → exit 0.
* Bad environment variable: error logged, no probe server possible → exit 2.
* Probe port already in use: error logged → exit 1.
* Plan file missing or invalid, or vLLM binary missing: error logged; stays up,
  not ready, live → no exit.
* vLLM exits on its own (crash, rejected flag): error logged → exit with vLLM's
  code (1 if it exited 0).
* vLLM /health not 200 within LLMPOD_STARTUP_TIMEOUT_S: error logged, vLLM
  stopped → exit 1.
* Warmup fails on every attempt: error logged; vLLM kept running for debugging;
  not ready, live → no exit.

"Stays up" cases would read the same plan again after a restart, so restarting
only adds a crash loop; the reason is in the logs and in ``/status``.

Signals other than SIGTERM/SIGINT (SIGHUP, SIGUSR1, SIGUSR2) are forwarded to vLLM.
A second SIGTERM/SIGINT cuts the drain short.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from . import compile_cache, vllm_http
from .drain import drain_then_stop
from .jsonlog import log_event
from .plan_check import Expectation, RunningReportError, compare, outcome
from .plan_file import Plan, PlanFileError, load_plan
from .ready_file import remove_ready_file, write_ready_file
from .settings import Settings, SettingsError, settings_from_env
from .state import LifecycleState
from .status_server import StatusServer
from .stop_signals import Signals
from .supervisor import VllmChild
from .warmup import WarmupError, run_warmup

#: Consecutive failed vLLM /health checks after warmup before readiness is withdrawn.
_HEALTH_FAILURES_BEFORE_UNREADY = 3
_HEALTH_INTERVAL_S = 5.0
_WARMUP_RETRY_DELAY_S = 5.0


def vllm_argv(settings: Settings, plan: Plan) -> list[str]:
    """The exact command: the plan's args untouched, then the deployment's host and port."""
    return [
        settings.vllm_bin,
        "serve",
        *plan.vllm_args,
        "--host",
        settings.vllm_host,
        "--port",
        str(settings.vllm_port),
    ]


def vllm_healthy(settings: Settings) -> bool:
    try:
        return vllm_http.request(f"{settings.vllm_base_url}/health", timeout=5.0).status == 200
    except vllm_http.VllmUnreachable:
        return False


def check_against_plan(settings: Settings, plan: Plan) -> dict[str, Any]:
    """What vLLM reports (``/metrics``, ``/v1/models``) against the plan's figures.

    Never raises: a server that cannot be asked is itself the finding, reported
    with ``ok: null`` so nobody mistakes "could not check" for "matches".
    """
    base = settings.vllm_base_url
    expectation = Expectation(
        vllm_args=plan.vllm_args,
        kv_cache_tokens=plan.expected.kv_cache_tokens,
        block_size=plan.expected.block_size,
    )
    try:
        metrics = vllm_http.request(f"{base}/metrics", timeout=10.0)
        models = vllm_http.request(f"{base}/v1/models", timeout=10.0)
        if metrics.status != 200 or models.status != 200:
            raise RunningReportError(
                f"vLLM answered /metrics {metrics.status}, /v1/models {models.status}"
            )
        # The launched arguments are the plan's by construction: nothing to compare there.
        checks = compare(expectation, metrics.text(), models.json())
    except (vllm_http.VllmUnreachable, RunningReportError, ValueError) as exc:
        return {"ok": None, "error": f"could not compare with the plan: {exc}"}
    return outcome(checks)


def _child_died(state: LifecycleState, child: VllmChild, where: str) -> int:
    code = child.returncode if child.returncode is not None else 1
    state.set_child("exited")
    log_event(
        "error",
        phase=where,
        reason=f"vLLM exited with code {code} during {where}; see its log lines above."
        " The container exits so Kubernetes restarts it.",
        vllm_exit_code=code,
    )
    log_event("exit", code=code or 1)
    return code or 1


class Entrypoint:
    def __init__(self, settings: Settings, state: LifecycleState, signals: Signals) -> None:
        self.settings = settings
        self.state = state
        self.signals = signals
        self.child: VllmChild | None = None
        self.started = time.monotonic()

    def _fail(self, reason: str) -> None:
        log_event("error", phase=self.state.phase, reason=reason)
        self.state.advance("failed", reason=reason)

    def _idle_until_signal(self) -> int:
        """Not ready, nothing to run: wait for SIGTERM, then exit 0."""
        self.signals.stop.wait()
        self.state.advance("draining", reason=self.state.reason)
        self.state.advance("stopping")
        log_event("exit", code=0, signal=self.signals.last)
        return 0

    def _wait_for_health(self, child: VllmChild) -> int | None:
        """None once vLLM is healthy; an exit code when the entrypoint must stop."""
        deadline = self.started + self.settings.startup_timeout_s
        while not self.signals.stop.is_set():
            if child.poll() is not None:
                return _child_died(self.state, child, "load")
            if vllm_healthy(self.settings):
                self.state.set_vllm_healthy(True)
                log_event("health", status=200, after_s=round(time.monotonic() - self.started, 3))
                return None
            if time.monotonic() > deadline:
                log_event(
                    "error",
                    phase="load",
                    reason=f"vLLM /health was not 200 within LLMPOD_STARTUP_TIMEOUT_S="
                    f"{self.settings.startup_timeout_s:g}s; stopping vLLM so Kubernetes"
                    " restarts the container. Raise the timeout if weights load slowly.",
                )
                child.stop(self.settings.vllm_stop_timeout_s)
                self.state.set_child("exited")
                log_event("exit", code=1)
                return 1
            self.signals.stop.wait(0.5)
        return None

    def _warmup_worker(self, plan: Plan, outcome: dict[str, Any]) -> None:
        for attempt in range(1, plan.warmup.attempts + 1):
            try:
                outcome["summary"] = run_warmup(self.settings.vllm_base_url, plan.warmup, log_event)
                return
            except (WarmupError, vllm_http.VllmUnreachable) as exc:
                outcome["error"] = str(exc)
                log_event("error", phase="warmup", attempt=attempt, reason=str(exc))
                if self.signals.stop.wait(_WARMUP_RETRY_DELAY_S):
                    return

    def _warm_up(self, plan: Plan, child: VllmChild) -> int | None:
        """None when done (ready or failed); an exit code if vLLM died meanwhile."""
        self.state.advance("warmup")
        if not plan.warmup.enabled:
            log_event("warmup", action="skipped", reason="warmup.enabled is false")
            summary: dict[str, Any] = {"total_s": 0.0, "requests": [], "skipped": True}
        else:
            outcome: dict[str, Any] = {}
            worker = threading.Thread(
                target=self._warmup_worker, args=(plan, outcome), name="warmup", daemon=True
            )
            worker.start()
            while worker.is_alive() and not self.signals.stop.is_set():
                if child.poll() is not None:
                    return _child_died(self.state, child, "warmup")
                worker.join(0.2)
            if self.signals.stop.is_set():
                return None
            if "summary" not in outcome:
                self._fail(
                    f"warmup failed {plan.warmup.attempts} times; last error:"
                    f" {outcome.get('error')}. vLLM keeps running for inspection; the pod"
                    " stays not-ready."
                )
                return None
            summary = outcome["summary"]
        self.state.set_warmup(summary)
        self.state.advance("ready")
        # After the phase change, so the file never claims more than /ready does.
        if not self.signals.stop.is_set():
            write_ready_file(self.settings.ready_file, {"warmup_total_s": summary["total_s"]})
        log_event(
            "ready",
            after_s=round(time.monotonic() - self.started, 3),
            warmup_total_s=summary["total_s"],
            ready_file=str(self.settings.ready_file),
        )
        # Once, after ready: a server that runs with other figures than planned (a
        # utilization, KV dtype or context that differs) still serves, but the
        # capacity the plan promised is not there. Reported, not fatal.
        result = check_against_plan(self.settings, plan)
        self.state.set_plan_check(result)
        log_event("plan_check", **result)
        return None

    def _watch(self, child: VllmChild) -> int | None:
        """Ready (or failed) and serving: watch vLLM until a signal or its death."""
        failures = 0
        next_check = time.monotonic() + _HEALTH_INTERVAL_S
        while not self.signals.stop.is_set():
            if child.poll() is not None:
                return _child_died(self.state, child, self.state.phase)
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + _HEALTH_INTERVAL_S
                healthy = vllm_healthy(self.settings)
                failures = 0 if healthy else failures + 1
                was = self.state.vllm_healthy
                now = healthy or failures < _HEALTH_FAILURES_BEFORE_UNREADY
                if now != was:
                    self.state.set_vllm_healthy(now)
                    log_event("health", status=200 if now else "failing", failures=failures)
            self.signals.stop.wait(0.5)
        return None

    def _publish_cache(self) -> None:
        shared = self.settings.compile_cache_dir
        assert shared is not None
        outcome = compile_cache.publish(self.settings.compile_cache_local, shared)
        log_event("compile_cache", action="publish", outcome=outcome)

    def _after_ready(self, cache: compile_cache.CacheStart) -> None:
        # Only a replica that compiled publishes; in a thread, so a slow volume
        # never delays the health watch or a drain.
        if cache.state == "cold" and self.state.phase == "ready":
            threading.Thread(target=self._publish_cache, name="compile-cache", daemon=True).start()

    def run(self, plan: Plan) -> int:
        argv = vllm_argv(self.settings, plan)
        cache = compile_cache.prepare(
            self.settings.compile_cache_dir, self.settings.compile_cache_local
        )
        log_event(
            "compile_cache",
            action="prepare",
            state=cache.state,
            detail=cache.detail,
            vllm_cache_root=cache.env.get("VLLM_CACHE_ROOT"),
        )
        child = VllmChild(argv, {**os.environ, **cache.env}, log_event)
        try:
            pid = child.start()
        except OSError as exc:
            self._fail(
                f"cannot start vLLM ({argv[0]}): {exc.strerror}. Set LLMPOD_VLLM_BIN to the"
                " vllm executable."
            )
            return self._idle_until_signal()
        self.child = self.signals.child = child
        self.state.set_child("running", pid=pid)
        self.state.set_vllm_args(plan.vllm_args)
        self.state.advance("load")
        log_event("load", pid=pid, argv=argv)

        def serve(c: VllmChild) -> int | None:
            self._after_ready(cache)
            return self._watch(c)

        for step in (self._wait_for_health, lambda c: self._warm_up(plan, c), serve):
            if self.signals.stop.is_set():
                break
            code = step(child)
            if code is not None:
                return code
        return drain_then_stop(self.settings, self.state, self.signals, child, log_event)


def main() -> int:
    try:
        settings = settings_from_env(os.environ)
    except SettingsError as exc:
        log_event("error", phase="init", reason=str(exc))
        log_event("exit", code=2)
        return 2
    state = LifecycleState()
    signals = Signals(state, settings.ready_file)
    signals.install()
    remove_ready_file(settings.ready_file)  # a stale file from a previous run lies
    try:
        server = StatusServer(state, settings.status_host, settings.status_port)
    except OSError as exc:
        log_event(
            "error",
            phase="init",
            reason=f"cannot listen on {settings.status_host}:{settings.status_port} for probes"
            f" ({exc.strerror}). Free the port or set LLMPOD_STATUS_PORT.",
        )
        log_event("exit", code=1)
        return 1
    server.start()
    log_event("status_server", host=settings.status_host, port=server.port)
    entry = Entrypoint(settings, state, signals)
    try:
        try:
            plan = load_plan(settings.plan_file)
        except PlanFileError as exc:
            entry._fail(f"{exc} The pod stays not-ready until the plan is fixed.")
            return entry._idle_until_signal()
        return entry.run(plan)
    finally:
        remove_ready_file(settings.ready_file)
        server.close()


if __name__ == "__main__":
    sys.exit(main())
