"""The backend seam: one registry, the spec's choices, a cloud-neutral GPU catalog."""

from __future__ import annotations

import dataclasses
from typing import get_args

import pytest

from llmpod.deploy.registry import BACKENDS, backend_for
from llmpod.deploy.stack import cost_per_hour, plan_stack
from llmpod.environments.stack_files import load_stack
from llmpod.errors import LlmpodError
from llmpod.gpus.catalog import find_gpu
from llmpod.gpus.nodes import INSTANCES
from llmpod.gpus.spec import GpuSpec
from llmpod.spec.service import BackendName, ServingSpec
from llmpod.spec.stack import StackSpec


def test_spec_offers_exactly_the_registered_backends() -> None:
    assert set(get_args(BackendName)) == set(BACKENDS) == {"kubernetes", "aws"}
    assert get_args(ServingSpec.model_fields["backend"].annotation) == get_args(BackendName)
    for name, backend in BACKENDS.items():
        assert backend.name == name
        # Its section is a field of the service spec.
        assert backend.section in ServingSpec.model_fields


def test_gpu_catalog_names_no_cloud() -> None:
    fields = [f.name for f in dataclasses.fields(GpuSpec)]
    assert not [f for f in fields if "aws" in f or "instance" in f]
    # The AWS backend's instance list names catalogued GPUs only (no typo'd keys).
    for key, types in INSTANCES.items():
        assert find_gpu(key).key == key and types
        assert all(t.gpus <= find_gpu(key).max_gpus_per_node for t in types)


def _stack(service: dict[str, object]) -> StackSpec:
    return StackSpec.from_config(
        {
            "llmpod:environment": "dev",
            "llmpod:services": [
                {
                    "name": "chat",
                    "model": "qwen2.5-0.5b-instruct",
                    "gpus": {"types": ["L4"]},
                    **service,
                }
            ],
        },
        where="test",
    )


def test_a_backends_section_is_refused_on_another_backend() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"an 'aws' section is only read with backend: aws; "
        r"remove it or set backend: aws",
    ):
        _stack({"aws": {"region": "us-east-1"}})
    assert _stack({"backend": "aws", "aws": {"region": "us-east-1"}}).services[0].aws


def test_each_service_is_costed_by_its_own_backend() -> None:
    plans = plan_stack(load_stack("staging"))
    by_backend = {sp.spec.backend: sp for sp in plans}
    assert set(by_backend) == {"kubernetes", "aws"}
    k8s, aws = by_backend["kubernetes"], by_backend["aws"]
    # Both bill whole nodes (Kubernetes: one pod per node under the hard spread),
    # so never less than their GPUs.
    from llmpod.k8s.cost import node_cost

    assert cost_per_hour(k8s) == backend_for("kubernetes").cost_per_hour(k8s)
    assert cost_per_hour(k8s) == node_cost(k8s).per_hour >= k8s.plan.cost_per_hour
    assert cost_per_hour(aws) == backend_for("aws").cost_per_hour(aws)
    assert cost_per_hour(aws) >= aws.plan.cost_per_hour


def test_each_component_has_the_outputs_its_backend_declares() -> None:
    # The program exports exactly Backend.outputs (no hasattr probing): a declared
    # output the component lacks would fail `pulumi up` at export time.
    from llmpod.aws.component import AwsVllmService
    from llmpod.k8s.component import VllmService

    components = {"kubernetes": VllmService, "aws": AwsVllmService}
    assert set(components) == set(BACKENDS)
    for name, component in components.items():
        outputs = BACKENDS[name].outputs
        assert outputs and set(outputs) <= set(component.__annotations__)
