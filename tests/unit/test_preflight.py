"""`llmpod preflight` against moto's standalone server on 127.0.0.1: real HTTP,
real boto3 clients (endpoint from AWS_ENDPOINT_URL), fake credentials.

The model is a small Llama whose config.json lives in the moto bucket, so the
planner reads it from S3 like a real s3:// model; its weight file is sized from
the parameter count worked out below, independently of the planner.
Throttling is injected with a botocore ``before-call`` handler on the real
client: botocore then raises the same ClientError a throttled AWS answer would.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmpod.adaptors import aws as aws_sdk
from llmpod.aws.description import describe_service
from llmpod.aws.preflight import check_quota, preflight_plans, preflight_service, require_preflight
from llmpod.cli.main import main
from llmpod.errors import LlmpodError
from llmpod.planning.service import ServicePlan, plan_service
from llmpod.spec.service import ServingSpec

HIDDEN, LAYERS, HEADS, INTER, VOCAB = 256, 4, 4, 688, 8192
CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": HIDDEN,
    "intermediate_size": INTER,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": HEADS,
    "num_key_value_heads": HEADS,
    "vocab_size": VOCAB,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "rms_norm_eps": 1e-5,
}
# Embedding + LM head, per layer q/k/v/o + gate/up/down + 2 RMSNorms, final norm; bf16.
PARAMS = (
    2 * VOCAB * HIDDEN + LAYERS * (4 * HIDDEN * HIDDEN + 3 * HIDDEN * INTER + 2 * HIDDEN) + HIDDEN
)
WEIGHT_BYTES = 2 * PARAMS
BUCKET, PREFIX, REGION = "weights", "tiny-llama", "us-east-1"
ZONES = ("us-east-1a", "us-east-1b")
AWS = {
    "region": REGION,
    "vpc_id": "vpc-0a1b2c3d4e5f60718",
    "subnet_ids": ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
}


# moto_endpoint: tests/unit/conftest.py


@pytest.fixture
def endpoint(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    urllib.request.urlopen(
        urllib.request.Request(  # fresh state per test
            f"{moto_endpoint}/moto-api/reset", method="POST"
        ),
        timeout=10,
    ).close()
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # A VPC with a subnet in each of two zones, as the spec names them.
    ec2 = boto3_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate(ZONES)
    ]
    monkeypatch.setitem(AWS, "vpc_id", vpc)
    monkeypatch.setitem(AWS, "subnet_ids", subnets)
    return moto_endpoint


def boto3_client(service: str, region: str = "us-east-1") -> Any:
    import boto3

    return boto3.session.Session().client(service, region_name=region)


def s3() -> Any:
    import boto3

    return boto3.session.Session().client("s3", region_name=REGION)


def upload(weight_bytes: int | None = WEIGHT_BYTES, config: bool = True) -> None:
    client = s3()
    client.create_bucket(Bucket=BUCKET)
    if config:
        client.put_object(
            Bucket=BUCKET, Key=f"{PREFIX}/config.json", Body=json.dumps(CONFIG).encode()
        )
    if weight_bytes is not None:
        client.put_object(
            Bucket=BUCKET, Key=f"{PREFIX}/model.safetensors", Body=b"\0" * weight_bytes
        )


def service(region: str = REGION, environment: str = "staging") -> ServicePlan:
    spec = ServingSpec.model_validate(
        {
            "name": "tiny",
            "model": f"s3://{BUCKET}/{PREFIX}",
            "max_model_len": 4096,
            "gpus": {"types": ["L4"]},
            "replicas": {"min": 1, "max": 2},
            "backend": "aws",
            "aws": {**AWS, "region": region},
        }
    )
    return plan_service(spec, environment)


NO_SLEEP: Callable[[float], None] = lambda _s: None  # noqa: E731


def by_check(findings: list[Any]) -> dict[str, Any]:
    return {f.check: f for f in findings}


def test_a_ready_account_passes_every_check(endpoint: str) -> None:
    upload()
    sp = service()
    assert sp.evaluation.gpus_per_replica == 1
    found = by_check(preflight_service(sp, sleep=NO_SLEEP))
    assert found["instance_type"].status == "ok"
    assert "g6.xlarge is offered in us-east-1: 1 × L4" in found["instance_type"].message
    assert found["weights"].status == "ok"
    assert f"{WEIGHT_BYTES / 1024**3:.2f} GiB" in found["weights"].message
    # moto's Service Quotas knows no EC2 quotas: reported, not fatal.
    assert found["quota"].status == "info"
    assert "'Running On-Demand G and VT instances' (L-DB2E81BA) is not readable" in (
        found["quota"].message
    )
    assert "needs 8 vCPUs" in found["quota"].message  # 2 × g6.xlarge × 4 vCPUs


def test_missing_weights_fail_with_the_url(endpoint: str) -> None:
    upload(config=True)
    sp = service()
    s3().delete_object(Bucket=BUCKET, Key=f"{PREFIX}/config.json")
    found = by_check(preflight_service(sp, sleep=NO_SLEEP))
    assert found["weights"].status == "fail"
    assert found["weights"].message == (
        "weights missing: s3://weights/tiny-llama/config.json does not exist (weights.source)."
    )
    with pytest.raises(
        LlmpodError,
        match=r"service 'tiny': weights missing: "
        r"s3://weights/tiny-llama/config.json.*aws s3 sync",
    ) as info:
        require_preflight([sp])
    assert info.value.exit_code == 2


def test_config_without_weight_files_fails(endpoint: str) -> None:
    upload(weight_bytes=None)
    found = by_check(preflight_service(service(), sleep=NO_SLEEP))
    assert found["weights"].status == "fail"
    assert "has config.json but no *.safetensors" in found["weights"].message


def test_weights_of_the_wrong_size_fail_with_both_numbers(endpoint: str) -> None:
    upload(weight_bytes=WEIGHT_BYTES // 2)  # e.g. an 8-bit copy of a bf16 spec
    found = by_check(preflight_service(service(), sleep=NO_SLEEP))
    assert found["weights"].status == "fail"
    assert (
        f"add up to {WEIGHT_BYTES / 2 / 1024**3:.2f} GiB in 1 file(s)" in found["weights"].message
    )
    assert "(±15%:" in found["weights"].message


def test_instance_type_not_offered_in_the_region(endpoint: str) -> None:
    upload()
    # moto's us-west-1 offering list has no g6 instances (as AWS's did for years).
    found = by_check(preflight_service(service(region="us-west-1"), sleep=NO_SLEEP))
    assert found["instance_type"].status == "fail"
    assert found["instance_type"].message == (
        "instance type g6.xlarge (chosen for 1 GPU(s) per replica) is not offered in region "
        "us-west-1."
    )


def test_unknown_instance_type_is_reported_not_raised(endpoint: str) -> None:
    assert aws_sdk.describe_instance_type(REGION, "g6.colossal", sleep=NO_SLEEP) is None
    assert aws_sdk.instance_type_offered(REGION, "g6.colossal", sleep=NO_SLEEP) is False
    info = aws_sdk.describe_instance_type(REGION, "p5.48xlarge", sleep=NO_SLEEP)
    assert info is not None and (info.gpu_count, info.gpu_name) == (8, "H100")


def _inject(
    monkeypatch: pytest.MonkeyPatch, event: str, answers: list[tuple[int, dict[str, Any]]]
) -> list[str]:
    """Make the next calls matching ``event`` answer ``answers`` in order, then go to moto."""
    calls: list[str] = []
    real = aws_sdk.new_client

    class Http:
        def __init__(self, status: int) -> None:
            self.status_code = status
            self.headers: dict[str, str] = {}

    def handler(**kwargs: Any) -> tuple[Http, dict[str, Any]] | None:
        calls.append(event)
        if len(calls) <= len(answers):
            status, body = answers[len(calls) - 1]
            return Http(status), body
        return None

    def client(service: str, region: str) -> Any:
        c = real(service, region)
        c.meta.events.register(event, handler)
        return c

    monkeypatch.setattr(aws_sdk, "new_client", client)
    return calls


THROTTLED = (
    400,
    {
        "Error": {"Code": "RequestLimitExceeded", "Message": "Request limit exceeded."},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    },
)


def test_throttling_is_retried_with_exponential_backoff(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _inject(monkeypatch, "before-call.ec2.DescribeInstanceTypes", [THROTTLED] * 3)
    slept: list[float] = []
    info = aws_sdk.describe_instance_type(REGION, "g6.xlarge", sleep=slept.append)
    assert info is not None and info.gpu_count == 1  # the 4th attempt reached moto
    assert len(calls) == 4
    assert slept == [0.5, 1.0, 2.0]


def test_throttling_that_never_stops_gives_up_after_bounded_attempts(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _inject(monkeypatch, "before-call.ec2.DescribeInstanceTypes", [THROTTLED] * 10)
    slept: list[float] = []
    with pytest.raises(
        LlmpodError,
        match=r"describe_instance_types\(g6.xlarge\): AWS kept "
        r"throttling the request \(RequestLimitExceeded\) through 5 attempts",
    ):
        aws_sdk.describe_instance_type(REGION, "g6.xlarge", sleep=slept.append)
    assert len(calls) == 5
    assert slept == [0.5, 1.0, 2.0, 4.0]


def test_quota_denied_is_reported_and_readable_quota_gives_headroom(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload()
    desc = describe_service(service())
    denied = (
        400,
        {
            "Error": {"Code": "AccessDeniedException", "Message": "no"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
    )
    _inject(monkeypatch, "before-call.service-quotas.GetServiceQuota", [denied])
    [quota] = check_quota(desc, NO_SLEEP)
    assert (quota.status, quota.message.split(";")[0]) == (
        "info",
        "quota 'Running On-Demand G and VT instances' (L-DB2E81BA) is access denied",
    )

    low = (200, {"Quota": {"QuotaCode": "L-DB2E81BA", "Value": 4.0}})
    _inject(monkeypatch, "before-call.service-quotas.GetServiceQuota", [low])
    [quota] = check_quota(desc, NO_SLEEP)
    assert quota.status == "fail"
    assert "is 4 vCPUs; this service needs 8 (2 × g6.xlarge), headroom -4" in quota.message

    ample = (200, {"Quota": {"QuotaCode": "L-DB2E81BA", "Value": 64.0}})
    _inject(monkeypatch, "before-call.service-quotas.GetServiceQuota", [ample])
    assert check_quota(desc, NO_SLEEP)[0].status == "ok"


def test_cli_reports_findings_and_exit_code(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upload()
    stack = tmp_path / "Pulumi.cloud.yaml"
    stack.write_text(
        "config:\n  llmpod:environment: staging\n  llmpod:services:\n"
        f"    - name: tiny\n      model: s3://{BUCKET}/{PREFIX}\n      max_model_len: 4096\n"
        "      gpus: {types: [L4]}\n      backend: aws\n"
        f"      aws: {json.dumps({**AWS, 'region': 'us-west-1'})}\n"
    )
    assert main(["preflight", "cloud", "--stacks-dir", str(tmp_path), "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert [(f["check"], f["status"]) for f in out["findings"]][:2] == [
        ("instance_type", "fail"),
        ("weights", "ok"),
    ]
    assert main(["preflight", "cloud", "--stacks-dir", str(tmp_path)]) == 2
    text = capsys.readouterr().out
    assert "[fail] tiny instance_type: instance type g6.xlarge" in text
    # The stack's subnets were made in us-east-1, so us-west-1 has none of them either.
    assert "[fail] tiny zones: aws.subnet_ids: " in text and "not found in us-west-1" in text
    assert text.rstrip().endswith("cloud: 2 check(s) failed.")


def test_preflight_only_checks_aws_services(endpoint: str) -> None:
    spec = ServingSpec.model_validate({"name": "k8s", "model": "llama-3.1-8b"})
    assert preflight_plans([plan_service(spec, "staging")]).findings == []


def test_subnets_over_two_zones_pass_and_one_zone_or_unknown_subnets_fail(
    endpoint: str,
) -> None:
    # Issue 20 item 8: replicas spread over instances, instances over zones.
    upload()
    found = by_check(preflight_service(service(), sleep=NO_SLEEP))["zones"]
    assert (found.status, found.message) == (
        "ok",
        "subnets span us-east-1a, us-east-1b; the Auto Scaling group balances its "
        "1 instance(s) over them.",
    )
    ec2 = boto3_client("ec2")
    third = ec2.create_subnet(
        VpcId=AWS["vpc_id"], CidrBlock="10.20.9.0/24", AvailabilityZone=ZONES[0]
    )
    one_zone = [AWS["subnet_ids"][0], third["Subnet"]["SubnetId"]]
    found = by_check(preflight_service(_with_subnets(one_zone), sleep=NO_SLEEP))["zones"]
    assert found.status == "fail"
    assert "are all in us-east-1a: the load balancer needs subnets in two" in found.message
    gone = "subnet-0a1b2c3d4e5f60799"
    sp = _with_subnets([one_zone[0], gone])
    found = by_check(preflight_service(sp, sleep=NO_SLEEP))["zones"]
    assert (found.status, found.message) == (
        "fail",
        f"aws.subnet_ids: {gone} not found in us-east-1.",
    )


def _with_subnets(subnets: list[str]) -> ServicePlan:
    spec = service().spec
    assert spec.aws is not None
    aws = spec.aws.model_copy(update={"subnet_ids": subnets})
    return plan_service(spec.model_copy(update={"aws": aws}), "staging")
