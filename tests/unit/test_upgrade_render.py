"""Flags and metric names follow the service's vLLM release (issue 23, item 3 and 4)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from llmpod.environments.stack_yaml import read_stack_text
from llmpod.environments.stacks import load_spec
from llmpod.k8s.dashboard import dashboard, dashboard_config_map
from llmpod.planning.service import ServicePlan, plan_service
from llmpod.releases import metric_names as names
from llmpod.releases.for_release import argv_for_version, metric_name

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "stacks" / "Pulumi.legacy.yaml"


@pytest.mark.parametrize(
    ("release", "quieted"),
    # vLLM logged every prompt unless told otherwise up to 0.10.0; 0.10.1 made it opt-in.
    [("0.8.0", True), ("0.10.0", True), ("0.10.1", False), ("0.17.0", False), ("0.34.0", False)],
)
def test_request_logging_is_kept_off_on_every_release(release: str, quieted: bool) -> None:
    argv = argv_for_version(["/models/m", "--max-model-len", "4096"], release)
    assert ("--disable-log-requests" in argv) is quieted


@pytest.mark.parametrize(
    ("release", "kv", "itl"),
    [
        ("0.8.0", "vllm:gpu_cache_usage_perc", "vllm:time_per_output_token_seconds"),
        ("0.10.0", "vllm:kv_cache_usage_perc", "vllm:time_per_output_token_seconds"),
        ("0.11.0", "vllm:kv_cache_usage_perc", "vllm:inter_token_latency_seconds"),
        ("0.34.0", "vllm:kv_cache_usage_perc", "vllm:inter_token_latency_seconds"),
    ],
)
def test_metric_names_by_release(release: str, kv: str, itl: str) -> None:
    assert metric_name(names.KV_USAGE.names, release) == kv
    assert metric_name(names.ITL.names, release) == itl


def _legacy_plan(release: str) -> ServicePlan:
    spec = load_spec(read_stack_text(LEGACY), role="stack")
    service = spec.services[0]
    moved = service.model_copy(
        update={"image": service.image.model_copy(update={"vllm_version": release})}
    )
    return plan_service(moved, spec.environment)


def test_planned_argv_of_an_old_release_keeps_prompts_out_of_logs() -> None:
    assert "--disable-log-requests" in _legacy_plan("0.10.0").plan.vllm_args
    assert "--disable-log-requests" not in _legacy_plan("0.17.0").plan.vllm_args


def test_dashboard_config_map_for_the_grafana_sidecar() -> None:
    cm = dashboard_config_map(_legacy_plan("0.10.0"))
    assert cm["kind"] == "ConfigMap" and cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    (text,) = cm["data"].values()
    board = json.loads(text)
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert any("vllm:time_per_output_token_seconds_bucket" in e for e in exprs)
    assert any("vllm:generation_tokens_total" in e for e in exprs)
    newer = json.loads(next(iter(dashboard_config_map(_legacy_plan("0.17.0"))["data"].values())))
    assert any(
        "vllm:inter_token_latency_seconds_bucket" in t["expr"]
        for p in newer["panels"]
        for t in p["targets"]
    )


_GO_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


def _selector(expr: str) -> tuple[dict[str, str], str]:
    """The label matchers of the one selector in ``expr`` (decoded with PromQL's Go
    string rules, independently of llmpod's encoder) and the text after it."""
    i = expr.index("{") + 1
    out: dict[str, str] = {}
    while expr[i] != "}":
        key = re.match(r'([a-z_]+)="', expr[i:])
        assert key, expr[i:]
        i += key.end()
        value = ""
        while expr[i] != '"':
            if expr[i] == "\\":
                value += _GO_ESCAPES[expr[i + 1]]
                i += 2
            else:
                value += expr[i]
                i += 1
        out[key.group(1)] = value
        i += 1
        if expr[i] == ",":
            i += 1
    return out, expr[i + 1 :]


@pytest.mark.parametrize("payload", ['"} or vector(1) #', 'x",model_name=~".*', "a\\", "l\nx"])
def test_dashboard_queries_keep_label_values_one_literal(payload: str) -> None:
    """The dashboard's PromQL, like the KEDA query (tests/unit/test_sink_escaping.py),
    keeps a hostile namespace or served model name one string literal."""
    sp = SimpleNamespace(
        spec=SimpleNamespace(
            name="svc",
            kubernetes=SimpleNamespace(namespace=payload),
            image=SimpleNamespace(vllm_version="0.32.0"),
        ),
        model=SimpleNamespace(served_name=payload),
        environment="dev",
    )
    board = dashboard(cast(Any, sp))
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert len(exprs) == 12  # 7 panels: 5 with two series, 2 with one
    for expr in exprs:
        matchers, rest = _selector(expr)
        assert matchers == {"namespace": payload, "model_name": payload}, expr
        assert rest in (")", "[5m]))", "[5m])))"), expr


def test_off_switches_use_the_release_spelling() -> None:
    argv = ["/models/m", "--no-enable-prefix-caching", "--no-trust-remote-code"]
    assert argv_for_version(argv, "0.32.0") == argv
    # 0.33.0 pairs --enable-x with --disable-x and hides --no-enable-x.
    assert argv_for_version(argv, "0.33.0") == [
        "/models/m", "--disable-prefix-caching", "--no-trust-remote-code",
    ]  # fmt: skip
