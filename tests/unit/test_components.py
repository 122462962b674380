"""VllmService under Pulumi's mock engine: children, parents, provider, outputs."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from k8s_specs import plan

from llmpod.render.mock_engine import run_under_mocks

SINGLE_CHILDREN = {
    "kubernetes:apps/v1:Deployment": 1,
    "kubernetes:batch/v1:Job": 1,
    "kubernetes:core/v1:ConfigMap": 2,
    "kubernetes:core/v1:PersistentVolumeClaim": 2,
    "kubernetes:core/v1:Service": 1,
    "kubernetes:core/v1:ServiceAccount": 1,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": 2,
    "kubernetes:policy/v1:PodDisruptionBudget": 1,
}


def _register(shape: str) -> tuple[dict[str, Any], list[Any]]:
    import pulumi_kubernetes as k8s

    from llmpod.k8s.component import VllmService

    outputs: dict[str, Any] = {}

    def program() -> None:
        provider = k8s.Provider("k8s", render_yaml_to_directory="build/test")
        svc = VllmService(
            plan(shape).name,
            plan(shape),
            opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
        )
        for key in ("endpoint", "gpus", "cost_per_hour", "plan"):
            getattr(svc, key).apply(lambda v, k=key: outputs.__setitem__(k, v))

    _, regs = run_under_mocks(program, {}, project="llmpod", stack="test")
    return outputs, regs


@pytest.mark.parametrize(
    ("shape", "workload"),
    [
        ("tp1", "kubernetes:apps/v1:Deployment"),
        ("multinode", "kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet"),
    ],
)
def test_children_are_registered_under_the_component(shape: str, workload: str) -> None:
    _, regs = _register(shape)
    component = next(r for r in regs if r.type == "llmpod:kubernetes:VllmService")
    children = [r for r in regs if r.parent_urn == component.urn]
    counts: dict[str, int] = {}
    for r in children:
        counts[r.type] = counts.get(r.type, 0) + 1
    expected = dict(SINGLE_CHILDREN)
    expected.pop("kubernetes:apps/v1:Deployment")
    expected[workload] = 1
    assert counts == expected
    provider = next(r for r in regs if r.type == "pulumi:providers:kubernetes")
    assert provider.inputs["renderYamlToDirectory"] == "build/test"


def test_outputs_are_endpoint_gpus_cost_and_plan() -> None:
    outputs, _ = _register("tp8")
    sp = plan("tp8")
    assert outputs["endpoint"] == "http://svc-tp8.llm.svc:80"
    assert outputs["gpus"] == 8 * sp.plan.replicas
    # 8 H100 at the catalog's $6.88 per GPU-hour (p5.48xlarge $55.04 ÷ 8).
    assert outputs["cost_per_hour"] == pytest.approx(55.04 * sp.plan.replicas)
    assert outputs["plan"]["tensor_parallel_size"] == 8
    assert outputs["plan"]["vllm_args"] == list(sp.plan.vllm_args)
