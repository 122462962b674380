"""The entrypoint as a process, staged exactly as the image holds it, around a fake vLLM.

These drive the decisions (ready, stay up not-ready, exit and with which code)
quickly; tests/e2e runs the same entrypoint around a real vLLM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmpod.image.runtime_files import IMAGE_PACKAGE, stage_runtime

FAKE_VLLM = Path(__file__).with_name("fake_vllm.py")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with _OPENER.open(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError):
        return 0


@dataclass
class Run:
    proc: subprocess.Popen[str]
    tmp: Path
    status_port: int
    vllm_port: int
    _output: str | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.status_port}"

    def status(self) -> dict[str, Any]:
        with _OPENER.open(self.base + "/status", timeout=5) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def wait_phase(self, *phases: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                status = self.status()
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
                continue
            if status["phase"] in phases:
                return status
            time.sleep(0.05)
        raise AssertionError(f"phase never became {phases}: {self.status()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def output(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        if self._output is None:
            self._output = self.proc.stdout.read() if self.proc.stdout else ""
        return self._output

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.output().splitlines() if line.startswith("{")]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    runs: list[Run] = []
    stage = stage_runtime(tmp_path / "image")
    wrapper = tmp_path / "vllm"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_VLLM}" "$@"\n')
    wrapper.chmod(0o755)

    def _start(plan: dict[str, Any] | None, **env: str) -> Run:
        status_port, vllm_port = _port(), _port()
        plan_file = tmp_path / "plan.json"
        if plan is not None:
            plan_file.write_text(json.dumps(plan))
        full_env = {
            **os.environ,
            "PYTHONPATH": str(stage.parent),
            "LLMPOD_PLAN_FILE": str(plan_file),
            "LLMPOD_VLLM_BIN": str(wrapper),
            "LLMPOD_VLLM_HOST": "127.0.0.1",
            "LLMPOD_VLLM_PORT": str(vllm_port),
            "LLMPOD_STATUS_HOST": "127.0.0.1",
            "LLMPOD_STATUS_PORT": str(status_port),
            "LLMPOD_READY_FILE": str(tmp_path / "ready"),
            "LLMPOD_DRAIN_PROPAGATION_S": "0",
            "FAKE_VLLM_ARGV_FILE": str(tmp_path / "argv.json"),
            **env,
        }
        proc = subprocess.Popen(
            # -I -S: no site-packages, no PYTHONPATH, no cwd on sys.path, so nothing of
            # the test environment (llmpod itself included) is importable — as in
            # the vLLM image. The staged package goes on sys.path explicitly.
            [sys.executable, "-I", "-S", "-c",
             f"import sys; sys.path.insert(0, {str(stage.parent)!r});"
             f" from {IMAGE_PACKAGE}.entrypoint import main; sys.exit(main())"],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=tmp_path,
        )  # fmt: skip
        run = Run(proc, tmp_path, status_port, vllm_port)
        runs.append(run)
        return run

    yield _start
    for run in runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()


ARGS = ["--model", "/models/fake", "--max-model-len", "256", "--enforce-eager"]
QUICK = {"prompt_tokens": [8, 64], "concurrency": 3, "batch_prompt_tokens": 32, "max_tokens": 16}


def test_full_life_ready_then_drained(start: Any, tmp_path: Path) -> None:
    run = start({"vllm_args": ARGS, "warmup": QUICK})
    status = run.wait_phase("ready")
    assert _get(run.base + "/ready") == 200
    # The ready-file follows the phase change (never precedes it): allow a moment.
    deadline = time.monotonic() + 2
    while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (tmp_path / "ready").exists()
    argv = json.loads((tmp_path / "argv.json").read_text())
    assert argv == ["serve", *ARGS, "--host", "127.0.0.1", "--port", str(run.vllm_port)]
    steps = [r["step"] for r in status["warmup"]["requests"]]
    assert steps == ["prompt_8", "prompt_64", "near_max_context", *["batch_3x32"] * 3]
    near = next(r for r in status["warmup"]["requests"] if r["step"] == "near_max_context")
    # fake tokenizer: one token per word + BOS; budget 256 − 16 = 240, reachable exactly.
    assert near["prompt_tokens"] == 240
    assert run.stop() == 0
    events = run.events()
    names = [e["event"] for e in events]
    for earlier, later in [("load", "health"), ("health", "ready"), ("ready", "drain")]:
        assert names.index(earlier) < names.index(later)
    assert events[-1] == {**events[-1], "event": "exit", "code": 0}
    assert not (tmp_path / "ready").exists()


def test_too_long_prompts_are_shrunk_until_vllm_accepts(start: Any) -> None:
    run = start({"vllm_args": ARGS, "warmup": QUICK}, FAKE_VLLM_MODE="undercount")
    run.wait_phase("ready")
    assert run.stop() == 0
    shrinks = [e for e in run.events() if e.get("action") == "shrink"]
    assert shrinks and all(e["to"] < e["prompt_tokens"] for e in shrinks)


def test_missing_plan_stays_up_not_ready_and_never_starts_vllm(start: Any, tmp_path: Path) -> None:
    run = start(None)
    status = run.wait_phase("failed")
    assert "does not exist" in status["reason"] and "LLMPOD_PLAN_FILE" in status["reason"]
    assert (_get(run.base + "/ready"), _get(run.base + "/live")) == (503, 200)
    assert not (tmp_path / "argv.json").exists()
    assert run.stop() == 0
    errors = [e for e in run.events() if e["event"] == "error"]
    assert "plan file" in errors[0]["reason"] and "stays not-ready" in errors[0]["reason"]


def test_invalid_plan_reason_is_in_status(start: Any) -> None:
    run = start({"vllm_args": ARGS, "warmup": {"concurency": 2}})
    status = run.wait_phase("failed")
    assert "unknown key 'warmup.concurency'. Did you mean 'concurrency'?" in status["reason"]
    assert run.stop() == 0


def test_vllm_crash_exits_with_its_code(start: Any) -> None:
    run = start({"vllm_args": ARGS}, FAKE_VLLM_MODE="crash")
    assert run.proc.wait(timeout=30) == 3
    error = next(e for e in run.events() if e["event"] == "error")
    assert "vLLM exited with code 3 during load" in error["reason"]
    assert "Kubernetes restarts it" in error["reason"]


def test_health_never_up_exits_1_and_stops_vllm(start: Any) -> None:
    run = start({"vllm_args": ARGS}, FAKE_VLLM_MODE="hang", LLMPOD_STARTUP_TIMEOUT_S="1")
    assert run.proc.wait(timeout=60) == 1
    error = next(e for e in run.events() if e["event"] == "error")
    assert "was not 200 within LLMPOD_STARTUP_TIMEOUT_S=1s" in error["reason"]
    load = next(e for e in run.events() if e["event"] == "load")
    with pytest.raises(ProcessLookupError):
        os.kill(load["pid"], 0)


def test_failing_warmup_stays_not_ready_and_keeps_vllm(start: Any) -> None:
    plan = {"vllm_args": ARGS, "warmup": {**QUICK, "attempts": 1}}
    run = start(plan, FAKE_VLLM_MODE="warmup_500")
    status = run.wait_phase("failed")
    assert "warmup failed 1 times" in status["reason"]
    assert "answered 500" in status["reason"]
    assert (_get(run.base + "/ready"), _get(run.base + "/live")) == (503, 200)
    assert status["vllm_child"] == "running"
    assert run.stop() == 0


def test_missing_vllm_binary_is_explained(start: Any, tmp_path: Path) -> None:
    run = start({"vllm_args": ARGS}, LLMPOD_VLLM_BIN=str(tmp_path / "no-vllm"))
    status = run.wait_phase("failed")
    assert "cannot start vLLM" in status["reason"] and "LLMPOD_VLLM_BIN" in status["reason"]
    assert run.stop() == 0


def test_bad_environment_exits_2_with_the_reason(start: Any) -> None:
    run = start({"vllm_args": ARGS}, LLMPOD_STATUS_PORT="abc")
    assert run.proc.wait(timeout=30) == 2
    error = next(e for e in run.events() if e["event"] == "error")
    assert error["reason"].startswith("LLMPOD_STATUS_PORT='abc' is not a TCP port")


def test_disabled_warmup_is_ready_right_after_health(start: Any) -> None:
    run = start({"vllm_args": ARGS, "warmup": {"enabled": False}})
    status = run.wait_phase("ready")
    assert status["warmup"]["skipped"] is True and status["warmup"]["requests"] == []
    assert run.stop() == 0


def test_first_replica_publishes_the_compile_cache_and_the_next_one_starts_warm(
    start: Any, tmp_path: Path
) -> None:
    shared = tmp_path / "cache-volume" / "vllm-0.32.0_fake_tp1-pp1_h100_0123abcd"
    cache_file = tmp_path / "cache.json"
    first = start(
        {"vllm_args": ARGS, "warmup": QUICK},
        LLMPOD_COMPILE_CACHE_DIR=str(shared),
        LLMPOD_COMPILE_CACHE_LOCAL=str(tmp_path / "local-1"),
        FAKE_VLLM_CACHE_FILE=str(cache_file),
    )
    first.wait_phase("ready")
    # vLLM only ever sees the pod-local copy, never the shared volume.
    assert json.loads(cache_file.read_text()) == {
        "cache_root": str(tmp_path / "local-1"),
        "found": False,
    }
    deadline = time.monotonic() + 20
    while not shared.is_dir() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (
        shared / "torch_compile_cache/0123abcd/rank_0_0/backbone/artifact"
    ).read_text() == "compiled graph\n"
    assert first.stop() == 0
    assert [p.name for p in shared.parent.iterdir()] == [shared.name]  # no staging left over

    second = start(
        {"vllm_args": ARGS, "warmup": QUICK},
        LLMPOD_COMPILE_CACHE_DIR=str(shared),
        LLMPOD_COMPILE_CACHE_LOCAL=str(tmp_path / "local-2"),
        FAKE_VLLM_CACHE_FILE=str(cache_file),
    )
    second.wait_phase("ready")
    assert json.loads(cache_file.read_text()) == {
        "cache_root": str(tmp_path / "local-2"),
        "found": True,
    }
    assert second.stop() == 0
    prepared = [e for e in second.events() if e["event"] == "compile_cache"]
    assert prepared[0]["state"] == "warm"
    assert all(e.get("action") != "publish" for e in prepared)


def test_without_a_compile_cache_dir_vllm_keeps_its_default(start: Any, tmp_path: Path) -> None:
    cache_file = tmp_path / "cache.json"
    run = start({"vllm_args": ARGS, "warmup": QUICK}, FAKE_VLLM_CACHE_FILE=str(cache_file))
    run.wait_phase("ready")
    assert run.stop() == 0
    assert not cache_file.exists()  # VLLM_CACHE_ROOT was not set for vLLM


def test_plan_check_once_ready_is_logged_and_on_status(start: Any) -> None:
    """The fake reports 64 blocks of 16 = 1,024 KV tokens and utilization 0.9 (its default)."""
    plan = {"vllm_args": ARGS, "warmup": {"enabled": False},
            "expected": {"kv_cache_tokens": 1024, "block_size": 16}}  # fmt: skip
    run = start(plan)
    run.wait_phase("ready")
    deadline = time.monotonic() + 10
    while run.status()["plan_check"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    status = run.status()
    assert status["vllm_args"] == ARGS
    check = status["plan_check"]
    assert (check["ok"], check["differs"]) == (True, [])
    kv = next(c for c in check["checks"] if c["name"] == "kv_cache_tokens")
    assert (kv["planned"], kv["running"], kv["ok"]) == (1024, 1024, True)
    assert run.stop() == 0
    logged = [e for e in run.events() if e["event"] == "plan_check"]
    assert len(logged) == 1 and logged[0]["ok"] is True


def test_plan_check_names_what_differs(start: Any) -> None:
    plan = {"vllm_args": [*ARGS, "--gpu-memory-utilization", "0.95"],
            "warmup": {"enabled": False}, "expected": {"kv_cache_tokens": 2048}}  # fmt: skip
    run = start(plan)
    run.wait_phase("ready")
    deadline = time.monotonic() + 10
    while run.status()["plan_check"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    check = run.status()["plan_check"]
    # The fake reports the utilization it was launched with (0.95, as planned), so
    # only the KV figure differs: 1,024 running against 2,048 planned.
    assert (check["ok"], check["differs"]) == (False, ["kv_cache_tokens"])
    assert run.stop() == 0
