"""llmpod's entrypoint around a real vLLM: readiness, serving, warmup logs, exact args.

One server is started for this whole module (~40 s on CPU) and shared by the tests.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .argcheck import expected_values, matches
from .conftest import MAX_MODEL_LEN
from .server import EntrypointServer, http

pytestmark = pytest.mark.e2e

# Small enough to be quick on two cores, large enough that the warmup phase lasts
# long enough for the 50 ms probe polling to see it.
WARMUP_CONCURRENCY = 4
WARMUP_MAX_TOKENS = 48
WARMUP: dict[str, object] = {
    "prompt_tokens": [16, 128],
    "concurrency": WARMUP_CONCURRENCY,
    "batch_prompt_tokens": 64,
    "max_tokens": WARMUP_MAX_TOKENS,
}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    vllm_python: Path,
    vllm_bin: Path,
    tiny_plan_args: list[str],
) -> Iterator[EntrypointServer]:
    srv = EntrypointServer(
        run_dir=tmp_path_factory.mktemp("entrypoint"),
        python=vllm_python,
        vllm_bin=vllm_bin,
        vllm_args=tiny_plan_args,
        warmup=WARMUP,
        extra_env={"LLMPOD_DRAIN_PROPAGATION_S": "0"},  # no endpoints to update here
    )
    with srv.serving():
        yield srv


def test_not_ready_until_warmup_completed(server: EntrypointServer) -> None:
    before = [o for o in server.observations if o.phase in ("init", "load", "warmup")]
    seen_phases = {o.phase for o in before}
    # The polling must have watched both the weight load and the warmup itself,
    # otherwise "not ready before warmup" would be asserted on nothing.
    assert {"load", "warmup"} <= seen_phases, seen_phases
    assert all(o.ready == 503 for o in before), [o for o in before if o.ready != 503]
    assert not any(o.ready_file for o in before)
    # Liveness must not depend on warmup (a slow load must not get the pod killed).
    assert all(o.live == 200 for o in server.observations if o.phase in ("load", "warmup"))
    last = server.observations[-1]
    assert (last.phase, last.ready) == ("ready", 200)
    # The ready-file is written just after the phase change; it is there by now.
    assert server.ready_file.exists()
    for path in ("/ready", "/health", "/live"):
        assert http(server.status_url + path)[0] == 200, path


def test_completions_answer(server: EntrypointServer) -> None:
    model = server.status()["warmup"]["model"]
    code, body = http(
        f"{server.vllm_url}/v1/completions",
        {"model": model, "prompt": "river stone", "max_tokens": 5, "ignore_eos": True},
    )
    assert code == 200, body
    answer = json.loads(body)
    assert answer["usage"]["completion_tokens"] == 5
    assert isinstance(answer["choices"][0]["text"], str)


def test_chat_completions_answer(server: EntrypointServer) -> None:
    model = server.status()["warmup"]["model"]
    code, body = http(
        f"{server.vllm_url}/v1/chat/completions",
        {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
    )
    assert code == 200, body
    answer = json.loads(body)
    assert answer["choices"][0]["message"]["role"] == "assistant"
    assert answer["usage"]["completion_tokens"] == 4


def test_warmup_timings_logged_before_ready(server: EntrypointServer) -> None:
    events = server.events()
    timed = [e for e in events if e["event"] == "warmup" and "duration_s" in e]
    ready = [e for e in events if e["event"] == "ready"]
    assert len(ready) == 1
    assert all(e["ts"] <= ready[0]["ts"] for e in timed)
    assert all(e["duration_s"] > 0 for e in timed)
    steps = {e["step"] for e in timed}
    # One request near the maximum context: prompt ≈ max_model_len − max_tokens.
    near_max = [e for e in timed if e["step"] == "near_max_context"]
    assert len(near_max) == 1
    budget = MAX_MODEL_LEN - WARMUP_MAX_TOKENS
    assert 0.95 * budget <= near_max[0]["prompt_tokens"] <= budget
    # One concurrent batch at the planned concurrency.
    batch = [e for e in timed if e["step"].startswith("batch_")]
    assert len(batch) == WARMUP_CONCURRENCY
    assert {e["batch_size"] for e in batch} == {WARMUP_CONCURRENCY}
    # Each configured prompt length got its own request.
    assert {"prompt_16", "prompt_128"} <= steps
    # /status carries the same timings for operators.
    assert len(server.status()["warmup"]["requests"]) == len(timed)


def _serve_args_from_cmdline(pid: int) -> list[str]:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    return argv[argv.index("serve") + 1 :]


def test_vllm_runs_with_exactly_the_planned_args(
    server: EntrypointServer, tiny_plan_args: list[str]
) -> None:
    pid = server.status()["vllm_pid"]
    expected = [*tiny_plan_args, "--host", "127.0.0.1", "--port", str(server.vllm_port)]
    assert _serve_args_from_cmdline(pid) == expected


def test_vllm_reports_the_planned_values(
    server: EntrypointServer, tiny_plan_args: list[str]
) -> None:
    """vLLM's own "non-default args" log line agrees with every planned flag it lists."""
    match = re.search(r"non-default args: (\{.*\})", server.log_text())
    assert match, "vLLM did not log its non-default args"
    reported = ast.literal_eval(match.group(1))
    for key, value in expected_values(tiny_plan_args).items():
        key = "model" if key == "model_tag" else key
        if key not in reported:
            continue  # vLLM omits values equal to its defaults (e.g. TP 1)
        assert matches(reported[key], value), (key, reported[key], value)
    # The values the tiny plan exists for must not have been dropped as "default".
    assert reported["max_model_len"] == MAX_MODEL_LEN
    assert reported["enforce_eager"] is True
