"""The program runs the AWS preflight before registering anything; render does not;
AWS services cost whole instances."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from llmpod.deploy.stack import cost_per_hour, plan_stack
from llmpod.environments.stack_files import load_stack, read_stack_config, stack_file
from llmpod.errors import LlmpodError
from llmpod.gpus.nodes import instances_for
from llmpod.planning.service import ServicePlan
from llmpod.program import run_program
from llmpod.render.api import render_stack
from llmpod.render.mock_engine import run_under_mocks


def staging_config() -> dict[str, Any]:
    return read_stack_config(stack_file("staging"))


def test_preflight_failure_stops_the_program_before_any_registration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []

    def refuse(plans: list[ServicePlan]) -> None:
        seen.append([p.name for p in plans])
        raise LlmpodError(code="aws_preflight_weights", message="weights missing in S3")

    built: list[str] = []

    def record(name: str, *args: object, **kwargs: object) -> SimpleNamespace:
        built.append(name)
        # What the program exports: every output the backend declares.
        return SimpleNamespace(endpoint="", cost_per_hour=0.0, gpus=0, plan={})

    monkeypatch.setattr("llmpod.aws.preflight.require_preflight", refuse)
    monkeypatch.setattr("llmpod.k8s.component.VllmService", record)
    monkeypatch.setattr("llmpod.aws.component.AwsVllmService", record)
    monkeypatch.delenv("LLMPOD_SKIP_AWS_PREFLIGHT", raising=False)
    with pytest.raises(Exception, match="weights missing in S3"):
        run_under_mocks(run_program, staging_config(), project="llmpod", stack="staging")
    # Only the AWS service was preflighted, and no service component was built.
    assert seen == [["llama-8b-aws"]]
    assert built == []


def test_without_the_preflight_failure_every_service_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The same recorder sees all three services when the preflight passes, so the
    # test above would notice a component built before the check.
    built: list[str] = []

    def record(name: str, *args: object, **kwargs: object) -> SimpleNamespace:
        built.append(name)
        # What the program exports: every output the backend declares.
        return SimpleNamespace(endpoint="", cost_per_hour=0.0, gpus=0, plan={})

    monkeypatch.setattr("llmpod.aws.preflight.require_preflight", lambda plans: None)
    monkeypatch.setattr("llmpod.k8s.component.VllmService", record)
    monkeypatch.setattr("llmpod.aws.component.AwsVllmService", record)
    monkeypatch.delenv("LLMPOD_SKIP_AWS_PREFLIGHT", raising=False)
    run_under_mocks(run_program, staging_config(), project="llmpod", stack="staging")
    assert sorted(built) == ["llama-70b", "llama-8b-aws", "qwen3-moe"]


def test_render_skips_the_preflight(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(plans: list[ServicePlan]) -> None:
        raise AssertionError("render must not call AWS")

    monkeypatch.setattr("llmpod.aws.preflight.require_preflight", refuse)
    result = render_stack("staging")
    assert any(path.endswith("aws-resources.json") for path in result.files)


def test_aws_service_costs_whole_instances() -> None:
    plans = {p.name: p for p in plan_stack(load_stack("staging"))}
    aws = plans["llama-8b-aws"]
    e = aws.evaluation
    assert e.gpu.key == "L4"
    # 4 replicas × 2 L4s pack into two 4-GPU g6.12xlarge instances.
    g6_12x = next(i for i in instances_for("L4") if i.name == "g6.12xlarge")
    assert cost_per_hour(aws) == pytest.approx(2 * g6_12x.price_per_hour, abs=0.01)
    # Kubernetes services cost the nodes their pods occupy: two TP-2 H200 replicas,
    # one per 8-GPU node under the hard spread (tests/unit/test_deployable_round2.py).
    k8s = plans["llama-70b"]
    p5e = next(i for i in instances_for("H200") if i.name == "p5e.48xlarge")
    assert cost_per_hour(k8s) == pytest.approx(2 * p5e.price_per_hour, abs=0.01)
