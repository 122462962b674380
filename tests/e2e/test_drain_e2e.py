"""SIGTERM against a real vLLM: not ready at once, requests finish, nothing left behind.

Its own server start (~40 s): draining ends the server, so it cannot be shared.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest

from .server import EntrypointServer, http, process_group_members

pytestmark = pytest.mark.e2e

# The drain must find requests still running when the propagation delay ends. How long
# one takes depends on the machine (a 400-token request of the tiny model ran in well
# under a second on a fast one), so several run together — a batch of them outlasts a
# short propagation delay on any machine this runs on.
LONG_GENERATION = 400
CONCURRENT_BEFORE = 12
PROPAGATION_S = 0.3


def _long_request(
    server: EntrypointServer, model: str, results: dict[str, tuple[int, bytes, float]], key: str
) -> None:
    payload = {
        "model": model,
        "prompt": f"{key} river stone",
        "max_tokens": LONG_GENERATION,
        "ignore_eos": True,
    }
    started = time.monotonic()
    code, body = http(f"{server.vllm_url}/v1/completions", payload, timeout=120)
    results[key] = (code, body, time.monotonic() - started)


def test_sigterm_drains_in_flight_requests_and_leaves_no_process(
    tmp_path: Path, vllm_python: Path, vllm_bin: Path, tiny_plan_args: list[str]
) -> None:
    server = EntrypointServer(
        run_dir=tmp_path,
        python=vllm_python,
        vllm_bin=vllm_bin,
        vllm_args=tiny_plan_args,
        warmup={"prompt_tokens": [16], "max_tokens": 8},
        extra_env={
            "LLMPOD_DRAIN_PROPAGATION_S": str(PROPAGATION_S),
            "LLMPOD_DRAIN_TIMEOUT_S": "60",
        },
    )
    server.start()
    assert server.proc is not None
    entry_pgid = server.proc.pid
    vllm_pgid: int | None = None
    try:
        server.wait_ready()
        status = server.status()
        vllm_pgid = status["vllm_pid"]
        model = status["warmup"]["model"]
        results: dict[str, tuple[int, bytes, float]] = {}

        before = [
            threading.Thread(target=_long_request, args=(server, model, results, f"before{i}"))
            for i in range(CONCURRENT_BEFORE)
        ]
        for thread in before:
            thread.start()
        time.sleep(0.2)  # let them reach vLLM's scheduler
        server.proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()

        # Readiness is withdrawn at once, inside the propagation delay.
        while http(f"{server.status_url}/ready", timeout=5)[0] != 503:
            assert time.monotonic() - signalled < PROPAGATION_S, "still ready after SIGTERM"
            time.sleep(0.01)

        # A request that arrives after SIGTERM (endpoints not yet updated) is served.
        during = threading.Thread(target=_long_request, args=(server, model, results, "during"))
        during.start()
        for thread in [*before, during]:
            thread.join(timeout=120)
        code = server.proc.wait(timeout=120)
    finally:
        leftovers = [entry_pgid] + ([vllm_pgid] if vllm_pgid else [])
        server.kill_leftovers(leftovers)

    assert code == 0, server.log_text()[-4000:]
    for key in [f"before{i}" for i in range(CONCURRENT_BEFORE)] + ["during"]:
        status_code, body, _ = results[key]
        assert status_code == 200, (key, body)
        assert json.loads(body)["usage"]["completion_tokens"] == LONG_GENERATION, key
    assert not server.ready_file.exists()

    drain = [e for e in server.events() if e["event"] == "drain"]
    assert drain[0]["action"] == "start" and drain[0]["signal"] == "SIGTERM"
    # The drain saw the in-flight requests and waited for them to finish.
    assert any(e.get("inflight", 0) >= 1 for e in drain), drain
    assert drain[-1]["action"] == "end" and drain[-1]["why"] == "idle", drain
    exits = [e for e in server.events() if e["event"] == "exit"]
    assert exits[-1]["code"] == 0

    for pgid in (entry_pgid, vllm_pgid):
        assert pgid is not None
        assert process_group_members(pgid) == [], f"processes left in group {pgid}"
