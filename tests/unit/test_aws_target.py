"""Bad AWS placement input: one clear paragraph naming field, value and fix,
raised by describe_service (before any resource could be registered)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from llmpod.aws.description import describe_service
from llmpod.errors import LlmpodError
from llmpod.planning.service import ServicePlan, plan_service
from llmpod.spec.service import ServingSpec

GOOD_AWS = {
    "region": "us-east-1",
    "vpc_id": "vpc-0a1b2c3d4e5f60718",
    "subnet_ids": ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
    "allowed_cidrs": ["10.0.0.0/8"],
}


def plan(environment: str = "staging", **overrides: Any) -> ServicePlan:
    doc: dict[str, Any] = {
        "name": "small",
        "model": "llama-3.1-8b",
        "max_model_len": 4096,
        "gpus": {"types": ["L4"], "max_per_replica": 2},
        "backend": "aws",
        "weights": {"source": "s3://models-bucket/llama-8b"},
        "aws": dict(GOOD_AWS),
    }
    for key, value in overrides.items():
        if key == "aws":
            doc["aws"] = {**GOOD_AWS, **value}
        else:
            doc[key] = value
    return plan_service(ServingSpec.model_validate(doc), environment)


def test_good_target_is_accepted_and_normalized() -> None:
    t = describe_service(
        plan(aws={"subnet_ids": ["subnet-0a1b2c3d4e5f60722", "subnet-0a1b2c3d4e5f60711"]})
    ).target
    assert t.subnet_ids == ("subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722")
    assert (t.bucket, t.prefix) == ("models-bucket", "llama-8b")
    assert not t.internet_facing


@pytest.mark.parametrize(
    ("aws", "pattern"),
    [
        ({"vpc_id": None}, r"aws.vpc_id None is not a VPC id.*set aws.vpc_id"),
        (
            {"subnet_ids": ["subnet-0a1b2c3d4e5f60711"]},
            r"aws.subnet_ids \['subnet-0a1b2c3d4e5f60711'\] must name at least two subnets.*two "
            r"availability zones",
        ),
        ({"allowed_cidrs": []}, r"aws.allowed_cidrs \[\] is empty"),
    ],
)
def test_bad_placement_names_the_field(aws: dict[str, Any], pattern: str) -> None:
    with pytest.raises(LlmpodError, match=pattern) as info:
        describe_service(plan(aws=aws))
    assert info.value.code == "aws_invalid_target"
    assert info.value.message.startswith("service 'small': ")


@pytest.mark.parametrize(
    ("aws", "pattern"),
    [
        ({"vpc_id": "vpc-xyz"}, r"aws.vpc_id\n.*must be a VPC id.*vpc-0123456789abcdef0"),
        (
            {"subnet_ids": ["sn-1", "subnet-0a1b2c3d4e5f60711"]},
            r"aws.subnet_ids.0\n.*must be a subnet id.*subnet-0123456789abcdef0",
        ),
        (
            {"allowed_cidrs": ["10.0.0.1/8"]},
            r"aws.allowed_cidrs.0\n.*must be a network CIDR.*has host bits set.*host bits zero",
        ),
        ({"region": "us-east-1;touch /tmp/pwned;"}, r"aws.region\n.*must be an AWS region"),
    ],
)
def test_bad_placement_is_refused_by_the_spec_grammar(aws: dict[str, Any], pattern: str) -> None:
    with pytest.raises(ValidationError, match=pattern):
        plan(aws=aws)


def test_public_cidr_in_production_is_refused_without_override() -> None:
    # plan_service skips StackSpec, so this is the component's own gate.
    with pytest.raises(
        LlmpodError,
        match=r"aws.allowed_cidrs '0.0.0.0/0' opens the endpoint "
        r"to the whole internet in production.*aws.allow_public: true",
    ):
        describe_service(plan("production", aws={"allowed_cidrs": ["0.0.0.0/0"]}))
    allowed = describe_service(
        plan("production", aws={"allowed_cidrs": ["0.0.0.0/0"], "allow_public": True})
    )
    assert allowed.target.internet_facing
    # The same CIDR outside production is the user's call.
    assert describe_service(plan(aws={"allowed_cidrs": ["0.0.0.0/0"]})).target.internet_facing


def test_weights_must_come_from_an_s3_prefix() -> None:
    # Without weights.source the spec derives hf://<model>, which AWS cannot use.
    with pytest.raises(
        LlmpodError,
        match=r"weights.source 'hf://llama-3.1-8b' is not an "
        r"s3:// URL.*weights.source: s3://bucket/prefix",
    ):
        describe_service(plan(weights={}))
    with pytest.raises(
        LlmpodError,
        match=r"weights.source 's3://models-bucket' needs both a "
        r"bucket and a key prefix",
    ):
        describe_service(plan(weights={"source": "s3://models-bucket"}))


def test_gpu_without_ec2_instances_fails_before_resources() -> None:
    with pytest.raises(LlmpodError, match=r"GPU RTX-4090 .* has no EC2 instance type"):
        describe_service(plan(gpus={"types": ["RTX-4090"], "max_per_replica": 2}))
