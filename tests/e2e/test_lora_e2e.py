"""A LoRA adapter served by the real vLLM (CPU build) with the planner's argv (issue 24).

The tiny Llama gets a tiny rank-8 adapter, generated offline (make_tiny_lora.py)
with a non-zero B, so requests to the adapter's name must come out differently
from the base model's. The whole argv is the plan's: ``llmpod plan --adapter
NAME=PATH:RANK`` renders the LoRA budget and ``--lora-modules``. One server for
the whole module (~40 s on CPU).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .argcheck import non_default_args
from .conftest import make_tiny_checkpoint, plan_tiny
from .server import EntrypointServer, http

pytestmark = pytest.mark.e2e

MAKE_TINY_LORA = Path(__file__).with_name("make_tiny_lora.py")
ADAPTER = "tiny-adapter"
#: make_tiny_lora.py's RANK; the plan reserves exactly that.
RANK = 8
PROMPT = "river stone garden window"


@pytest.fixture(scope="module")
def tiny_lora(
    vllm_python: Path, tiny_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("tiny-lora")
    make_tiny_checkpoint(vllm_python, MAKE_TINY_LORA, str(tiny_model), str(out))
    assert json.loads((out / "adapter_config.json").read_text())["r"] == RANK
    return out


@pytest.fixture(scope="module")
def lora_plan_args(tiny_model: Path, tiny_lora: Path) -> list[str]:
    """The planner's argv for the tiny Llama serving the adapter: LoRA budget and
    --lora-modules both rendered from ``--adapter NAME=SOURCE:RANK``."""
    plan = plan_tiny(tiny_model, "--adapter", f"{ADAPTER}={tiny_lora}:{RANK}")
    args: list[str] = plan["vllm_args"]
    return args


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    vllm_python: Path,
    vllm_bin: Path,
    lora_plan_args: list[str],
) -> Iterator[EntrypointServer]:
    srv = EntrypointServer(
        run_dir=tmp_path_factory.mktemp("lora-server"),
        python=vllm_python,
        vllm_bin=vllm_bin,
        vllm_args=lora_plan_args,
        extra_env={"LLMPOD_DRAIN_PROPAGATION_S": "0"},
    )
    with srv.serving():
        yield srv


def _base_name(args: list[str]) -> str:
    return args[args.index("--served-model-name") + 1]


def test_the_planned_lora_budget_is_what_vllm_runs_with(
    server: EntrypointServer, lora_plan_args: list[str]
) -> None:
    i = lora_plan_args.index("--enable-lora")
    assert lora_plan_args[i : i + 5] == [
        "--enable-lora",
        "--max-loras",
        "1",
        "--max-lora-rank",
        "8",
    ]
    reported = non_default_args(server.log_text())
    assert reported["enable_lora"] is True
    assert reported["max_lora_rank"] == RANK
    # vLLM omits values equal to its defaults; max_loras 1 is vLLM's default.
    assert reported.get("max_loras", 1) == 1
    assert f"LoRAModulePath(name='{ADAPTER}'" in str(reported["lora_modules"])


def test_models_list_the_adapter_under_the_base_model(
    server: EntrypointServer, lora_plan_args: list[str], tiny_lora: Path
) -> None:
    code, body = http(f"{server.vllm_url}/v1/models", timeout=10)
    assert code == 200, body
    cards = {card["id"]: card for card in json.loads(body)["data"]}
    base = _base_name(lora_plan_args)
    assert set(cards) == {base, ADAPTER}, cards
    assert cards[ADAPTER]["parent"] == base
    assert cards[ADAPTER]["root"] == str(tiny_lora)


def _greedy(server: EntrypointServer, model: str) -> dict[str, object]:
    code, body = http(
        f"{server.vllm_url}/v1/completions",
        {
            "model": model,
            "prompt": PROMPT,
            "max_tokens": 12,
            "temperature": 0,
            "ignore_eos": True,
            "logprobs": 1,
        },
    )
    assert code == 200, body
    answer: dict[str, object] = json.loads(body)
    return answer


def _tokens(answer: dict[str, object]) -> list[str]:
    choices = answer["choices"]
    assert isinstance(choices, list)
    tokens: list[str] = choices[0]["logprobs"]["tokens"]
    return tokens


def test_the_adapter_answers_and_changes_the_greedy_output(
    server: EntrypointServer, lora_plan_args: list[str]
) -> None:
    base = _greedy(server, _base_name(lora_plan_args))
    adapted = _greedy(server, ADAPTER)
    assert adapted["model"] == ADAPTER
    usage = adapted["usage"]
    assert isinstance(usage, dict) and usage["completion_tokens"] == 12
    # Greedy decoding is deterministic: the same request to the base model gives
    # the same tokens again, so a difference can only come from the adapter.
    assert _tokens(_greedy(server, _base_name(lora_plan_args))) == _tokens(base)
    assert _tokens(adapted) != _tokens(base), (_tokens(adapted), _tokens(base))


def test_an_unknown_adapter_name_is_refused(server: EntrypointServer) -> None:
    code, body = http(
        f"{server.vllm_url}/v1/completions",
        {"model": "no-such-adapter", "prompt": PROMPT, "max_tokens": 2},
    )
    assert code == 404, (code, body)


def test_the_entrypoints_plan_check_finds_the_adapter_on_the_base(
    server: EntrypointServer, lora_plan_args: list[str]
) -> None:
    deadline = time.monotonic() + 60
    while (status := server.status())["plan_check"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    checks = {c["name"]: c for c in status["plan_check"]["checks"]}
    adapter = checks[f"adapter:{ADAPTER}"]
    assert (adapter["ok"], adapter["running"]) == (True, _base_name(lora_plan_args)), adapter
