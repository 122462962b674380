"""ServingSpec / StackSpec: valid stacks load; every bad input names field, value and fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmpod.deploy.stack import plan_stack
from llmpod.environments.stack_files import load_stack
from llmpod.errors import LlmpodError
from llmpod.spec.base import is_local
from llmpod.spec.service import Kubernetes, Replicas, ServingSpec, Weights
from llmpod.spec.stack import StackSpec


def stack(services: list[dict[str, Any]], environment: str = "dev", **extra: object) -> StackSpec:
    cfg = {"llmpod:environment": environment, "llmpod:services": services, **extra}
    return StackSpec.from_config(cfg, where="Pulumi.test.yaml")


def svc(**kw: object) -> dict[str, Any]:
    return {"name": "chat", "model": "llama-3.1-8b", **kw}


@pytest.mark.parametrize("name", ["dev", "staging", "production"])
def test_repository_stacks_load_and_plan(name: str) -> None:
    plans = plan_stack(load_stack(name))
    assert plans and all(p.plan.feasible for p in plans)


def test_production_has_single_and_multi_node_services() -> None:
    nodes = {p.name: p.evaluation.nodes_per_replica for p in plan_stack(load_stack("production"))}
    assert min(nodes.values()) == 1 and max(nodes.values()) >= 2


def test_unknown_key_gets_did_you_mean() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"services\[0\]\.targetz: unknown key 'targetz'\. "
        r"Did you mean 'targets'",
    ):
        stack([svc(targetz={"concurrency": 2})])


def test_nested_unknown_key_lists_valid_keys() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"services\[0\]\.replicas\.maxx: unknown key.*"
        r"Did you mean 'max'.*Valid keys here: autoscale, max",
    ):
        stack([svc(replicas={"maxx": 3})])


def test_negative_size_names_field_and_value() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"services\[0\]\.weights\.size_gib: Input should be "
        r"greater than 0 \(got -5\)",
    ):
        stack([svc(weights={"size_gib": -5})])


def test_gpu_typo_in_spec() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"services\[0\]\.gpus\.types: Unknown GPU "
        r"'A100-80GBX'\..*Did you mean 'A100-80GB'",
    ):
        stack([svc(gpus={"types": ["A100-80GBX"]})])


def test_service_name_must_be_a_dns_label() -> None:
    with pytest.raises(
        LlmpodError, match=r"services\[0\]\.name: must be a DNS label.*'chat-1'.*got 'Chat_1'"
    ):
        stack([svc(name="Chat_1")])


def test_replica_bounds() -> None:
    with pytest.raises(LlmpodError, match=r"replicas\.max \(1\) is below replicas\.min \(3\)"):
        stack([svc(replicas={"min": 3, "max": 1})])


def test_duplicate_service_names() -> None:
    with pytest.raises(LlmpodError, match="repeated: chat"):
        stack([svc(), svc()])


def test_aws_backend_needs_aws_section_and_public_cidr_is_refused_in_production() -> None:
    with pytest.raises(LlmpodError, match="backend 'aws' needs an 'aws' section"):
        stack([svc(backend="aws")])
    with pytest.raises(LlmpodError, match=r"0\.0\.0\.0/0 in production.*allow_public"):
        stack([svc(backend="aws", aws={"allowed_cidrs": ["0.0.0.0/0"]})], environment="production")
    ok = stack(
        [svc(backend="aws", aws={"allowed_cidrs": ["0.0.0.0/0"], "allow_public": True})],
        environment="production",
    )
    assert ok.services[0].aws is not None


def test_autoscale_is_refused_on_aws_rather_than_ignored() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"replicas\.autoscale is not supported with backend: "
        r"aws yet",
    ):
        stack([svc(backend="aws", aws={}, replicas={"autoscale": True})])


def test_unknown_top_level_config_key() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"unknown config key 'llmpod:enviroment'\. Did you "
        r"mean 'llmpod:environment'",
    ):
        StackSpec.from_config({"llmpod:enviroment": "dev"}, where="x")


def test_bad_image_version_and_digest() -> None:
    with pytest.raises(
        LlmpodError, match=r"image\.vllm_version: must be a vLLM release version.*'latest'"
    ):
        stack([svc(image={"vllm_version": "latest"})])
    with pytest.raises(LlmpodError, match=r"image\.digest: must be an image digest.*64 lower"):
        stack([svc(image={"digest": "sha256:abc"})])


def test_unknown_stack_and_yaml_errors(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  llmpod:services: [\n")
    with pytest.raises(LlmpodError, match=r"No stack 'staging'.*use one of dev"):
        load_stack("staging", tmp_path)
    with pytest.raises(LlmpodError, match=r"is not valid YAML at line \d+, column \d+"):
        load_stack("dev", tmp_path)


def test_infeasible_service_fails_planning_with_the_planner_message() -> None:
    st = stack(
        [
            svc(
                model="meta-llama/Llama-3.1-405B-Instruct",
                gpus={"types": ["L4"], "max_per_replica": 8, "max_nodes": 1},
            )
        ]
    )
    with pytest.raises(LlmpodError, match=r"service 'chat': .*does not fit") as info:
        plan_stack(st)
    assert info.value.exit_code == 2


def test_cost_cap() -> None:
    cap: dict[str, object] = {"llmpod:costCapPerHour": 1}  # not an identifier: passed unpacked
    st = stack([svc(gpus={"types": ["H100"]})], "dev", **cap)
    with pytest.raises(LlmpodError, match=r"above its llmpod:costCapPerHour of \$1\.00"):
        plan_stack(st)


def test_local_markers() -> None:
    assert is_local(Kubernetes, "namespace") and is_local(Replicas, "min")
    assert is_local(Weights, "storage_class") and not is_local(Weights, "source")
    assert is_local(ServingSpec, "domain") and not is_local(ServingSpec, "model")
