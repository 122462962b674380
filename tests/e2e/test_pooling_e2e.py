"""Pooling models end to end on the real vLLM (CPU build): a tiny XLM-R embedding
model and a tiny XLM-R cross-encoder (reranker), each planned, served by the pooling
runner, warmed up on /v1/embeddings or /v1/score, Ready and verified (issue 20, item 6).

Before: the plan had no ``--runner pooling`` and the entrypoint warmed every model
up on /v1/completions, which a pooling server does not serve — such a pod could
never become Ready. One server per model (~20 s on CPU) is shared by its tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmpod.backends.runtime import POOLING_WARMUP_APIS

from .conftest import MAKE_TINY_MODEL, OFFLINE_ENV, run_planner
from .server import EntrypointServer, http

pytestmark = pytest.mark.e2e

MAX_MODEL_LEN = 512  # the tiny XLM-R's own limit (make_tiny_model.EMBEDDING_MAX_LEN)


#: make_tiny_model.py flag → the task vLLM's pooling runner serves it for.
KINDS = {"--embedding": "embed", "--reranker": "classify"}


@pytest.fixture(scope="module", params=sorted(KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def tiny_pooling_model(
    kind: str, vllm_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("tiny-xlm-r")
    proc = subprocess.run(
        [str(vllm_python), str(MAKE_TINY_MODEL), str(out), kind],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **OFFLINE_ENV},
        check=False,
    )
    assert proc.returncode == 0, f"tiny model generation failed:\n{proc.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def plan(tiny_pooling_model: Path) -> dict[str, Any]:
    return run_planner(
        ["--model", f"{tiny_pooling_model}/config.json", "--gpu", "cpu", "--enforce-eager"]
    )


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    vllm_python: Path,
    vllm_bin: Path,
    plan: dict[str, Any],
) -> Iterator[EntrypointServer]:
    srv = EntrypointServer(
        run_dir=tmp_path_factory.mktemp("entrypoint-pooling"),
        python=vllm_python,
        vllm_bin=vllm_bin,
        vllm_args=plan["vllm_args"],
        warmup={
            "api": POOLING_WARMUP_APIS[plan["task"]],
            "prompt_tokens": [16, 128],
            "concurrency": 2,
            "batch_prompt_tokens": 64,
        },
        extra_env={"LLMPOD_DRAIN_PROPAGATION_S": "0"},
    )
    with srv.serving():
        yield srv


def test_the_plan_is_a_pooling_plan(kind: str, plan: dict[str, Any]) -> None:
    assert plan["task"] == KINDS[kind]
    args = plan["vllm_args"]
    assert args[args.index("--runner") + 1] == "pooling"
    assert plan["max_model_len"] == MAX_MODEL_LEN
    assert plan["kv_cache_tokens"] == 0


def test_ready_after_warmup_on_the_pooling_route(server: EntrypointServer) -> None:
    warmups = [e for e in server.events() if e.get("event") == "warmup" and "step" in e]
    steps = {e["step"] for e in warmups}
    assert "near_max_context" in steps and any(s.startswith("batch_") for s in steps), steps
    last = server.observations[-1]
    assert (last.phase, last.ready) == ("ready", 200)


def test_serves_its_task_and_not_completions(kind: str, server: EntrypointServer) -> None:
    code, body = http(f"{server.vllm_url}/v1/models")
    assert code == 200
    name = json.loads(body)["data"][0]["id"]
    if KINDS[kind] == "embed":
        code, body = http(
            f"{server.vllm_url}/v1/embeddings",
            {"model": name, "input": ["river stone", "garden"]},
        )
        assert code == 200, body[:500]
        data = json.loads(body)["data"]
        assert len(data) == 2 and len(data[0]["embedding"]) == 128  # the tiny hidden size
    else:
        code, body = http(
            f"{server.vllm_url}/v1/score",
            {"model": name, "queries": "river stone", "documents": ["garden", "market"]},
        )
        assert code == 200, body[:500]
        scores = [d["score"] for d in json.loads(body)["data"]]
        assert len(scores) == 2 and all(isinstance(x, float) for x in scores)
    # What the old warmup sent: a pooling server has no completions route.
    code, _ = http(f"{server.vllm_url}/v1/completions", {"model": name, "prompt": "x"})
    assert code in (404, 400), code


def test_verify_holds_the_pooling_server_to_its_plan(server: EntrypointServer) -> None:
    """`llmpod verify` on the running server: the launched flags (--runner pooling
    included) and max_model_len match; there is no KV cache to compare."""
    proc = subprocess.run(
        [sys.executable, "-m", "llmpod.cli.main", "verify", "--plan", str(server.plan_path),
         server.vllm_url, "--status-url", server.status_url, "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["differs"] == []
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["max_model_len"]["ok"] is True
    assert checks["kv_cache_tokens"]["ok"] is None  # planned none, so nothing to hold it to
