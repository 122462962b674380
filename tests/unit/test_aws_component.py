"""AwsVllmService under Pulumi mocks: the resource graph and every hardening item.

Expected values are derived here from the spec and the instance facts (ports
8000+i / 8081+i, GPUs and prices of the instance type), and from AWS's own
rules (IMDSv2 = http_tokens "required"; a ListBucket grant is scoped by the
s3:prefix condition key), not read back from the code under test.
"""

from __future__ import annotations

import base64
import inspect
import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from ruamel.yaml import YAML

from llmpod.backends.runtime import startup_budget_s
from llmpod.errors import LlmpodError
from llmpod.planning.service import ServicePlan, plan_service
from llmpod.spec.service import ServingSpec

TAGS = {"environment": "staging", "managed-by": "llmpod", "service": "chat"}
AWS = {
    "region": "us-east-1",
    "vpc_id": "vpc-0a1b2c3d4e5f60718",
    "subnet_ids": ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
    "allowed_cidrs": ["10.20.0.0/16", "192.168.1.0/24"],
}


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.urns: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        state = dict(args.inputs)
        state["arn"] = f"arn:aws:mock:::{args.name}"
        if args.typ == "aws:lb/loadBalancer:LoadBalancer":
            state["dnsName"] = "internal-chat.us-east-1.elb.amazonaws.com"
        if args.typ == "aws:fsx/lustreFileSystem:LustreFileSystem":
            state.update(dnsName="fs-9.fsx.us-east-1.amazonaws.com", mountName="m9")
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], None]:
        return {}, None

    def of(self, typ: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]


def service(environment: str = "staging", **overrides: Any) -> ServicePlan:
    doc: dict[str, Any] = {
        "name": "chat",
        "model": "llama-3.1-8b",
        "max_model_len": 8192,
        "targets": {"concurrency": 64},
        "gpus": {"types": ["L4"], "max_per_replica": 2},
        "replicas": {"min": 4, "max": 6},
        "backend": "aws",
        "weights": {"source": "s3://model-store/llama/8b-instruct"},
        "aws": AWS,
    }
    doc.update(overrides)
    return plan_service(ServingSpec.model_validate(doc), environment)


def build(sp: ServicePlan) -> tuple[Recorder, list[Any]]:
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, preview=False)
    from llmpod.aws.component import AwsVllmService

    outputs: list[Any] = []

    # pulumi 3.x leaves runtime.test unannotated.
    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        svc = AwsVllmService(sp.name, sp)
        return pulumi.Output.all(
            svc.endpoint, svc.instance_type, svc.gpus, svc.cost_per_hour
        ).apply(outputs.extend)

    program()
    from pulumi.runtime.settings import get_monitor

    monitor: Any = get_monitor()  # a MockMonitor, which keeps every URN it issued
    recorder.urns = list(monitor.resources)
    return recorder, outputs


@pytest.fixture(scope="module")
def packed() -> tuple[ServicePlan, Recorder, list[Any]]:
    sp = service()
    assert sp.evaluation.gpus_per_replica == 2
    recorder, outputs = build(sp)
    return sp, recorder, outputs


def test_resource_graph_of_a_packed_service(packed: Any) -> None:
    _, rec, outputs = packed
    counts: dict[str, int] = {}
    for r in rec.resources:
        counts[r.typ] = counts.get(r.typ, 0) + 1
    # 4 replicas × 2 L4 on 4-GPU g6.12xlarge: 2 slots per instance, 2 instances.
    assert counts == {
        "llmpod:aws:VllmService": 1,
        "aws:ec2/securityGroup:SecurityGroup": 3,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 2,
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 2,
        "aws:efs/fileSystem:FileSystem": 1,
        "aws:efs/mountTarget:MountTarget": 2,
        "aws:iam/role:Role": 1,
        "aws:iam/rolePolicy:RolePolicy": 1,
        "aws:iam/instanceProfile:InstanceProfile": 1,
        "aws:lb/loadBalancer:LoadBalancer": 1,
        "aws:lb/targetGroup:TargetGroup": 2,
        "aws:lb/listener:Listener": 1,
        "aws:ec2/launchTemplate:LaunchTemplate": 1,
        "aws:autoscaling/group:Group": 1,
    }
    assert outputs == [
        "http://internal-chat.us-east-1.elb.amazonaws.com:8000",
        "g6.12xlarge",
        8,
        round(2 * 4.602, 2),
    ]
    asg = rec.of("aws:autoscaling/group:Group")[0].inputs
    assert (asg["minSize"], asg["desiredCapacity"], asg["maxSize"]) == (2, 2, 3)
    assert sorted(asg["vpcZoneIdentifiers"]) == sorted(AWS["subnet_ids"])


def test_every_child_is_parented_to_the_component(packed: Any) -> None:
    _, rec, _ = packed
    # A child's URN carries its parent's type: ...::llmpod:aws:VllmService$aws:...::name
    children = [u for u in rec.urns if "$aws:" in u or u.split("::")[2].startswith("aws:")]
    assert len(children) == len(rec.resources) - 1
    for urn in children:
        assert urn.split("::")[2].startswith("llmpod:aws:VllmService$aws:"), urn


def test_imdsv2_required_and_encrypted_volumes(packed: Any) -> None:
    _, rec, _ = packed
    lt = rec.of("aws:ec2/launchTemplate:LaunchTemplate")[0].inputs
    meta = lt["metadataOptions"]
    assert meta["httpTokens"] == "required" and meta["httpEndpoint"] == "enabled"
    assert meta["httpPutResponseHopLimit"] == 1
    assert meta["instanceMetadataTags"] == "disabled"  # no Ray workers to find a head
    assert lt["instanceType"] == "g6.12xlarge"
    assert lt["imageId"].startswith("resolve:ssm:/aws/service/deeplearning/")
    for mapping in lt["blockDeviceMappings"]:
        assert mapping["ebs"]["encrypted"] == "true"
    assert rec.of("aws:efs/fileSystem:FileSystem")[0].inputs["encrypted"] is True


def test_instance_role_reads_only_the_model_prefix(packed: Any) -> None:
    _, rec, _ = packed
    trust = json.loads(rec.of("aws:iam/role:Role")[0].inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "ec2.amazonaws.com"}]
    policy = json.loads(rec.of("aws:iam/rolePolicy:RolePolicy")[0].inputs["policy"])
    grants = {(s["Action"], s["Resource"]): s.get("Condition") for s in policy["Statement"]}
    assert grants == {
        ("s3:ListBucket", "arn:aws:s3:::model-store"): {
            "StringLike": {"s3:prefix": ["llama/8b-instruct", "llama/8b-instruct/*"]}
        },
        ("s3:GetObject", "arn:aws:s3:::model-store/llama/8b-instruct/*"): None,
    }
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


def test_only_configured_cidrs_reach_the_serving_port(packed: Any) -> None:
    _, rec, _ = packed
    groups = {r.name: r.inputs for r in rec.of("aws:ec2/securityGroup:SecurityGroup")}
    cidr_ingress = [
        (name, rule)
        for name, g in groups.items()
        for rule in g.get("ingress", [])
        if rule.get("cidrBlocks") or rule.get("ipv6CidrBlocks")
    ]
    assert len(cidr_ingress) == 1
    name, rule = cidr_ingress[0]
    assert name == "chat-lb"
    assert sorted(rule["cidrBlocks"]) == sorted(AWS["allowed_cidrs"])
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 8000, 8000)
    # The instances admit only the load balancer's group, on the slots' ports.
    rules = rec.of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert {(r.inputs["fromPort"], r.inputs["toPort"]) for r in rules} == {
        (8000, 8001),
        (8081, 8082),
    }
    for r in rules:
        assert r.inputs["referencedSecurityGroupId"] == "chat-lb-id"
        assert "cidrIpv4" not in r.inputs and "cidrIpv6" not in r.inputs
    nfs = groups["chat-weights"]["ingress"]
    assert [(x["fromPort"], x["securityGroups"]) for x in nfs] == [(2049, ["chat-instances-id"])]
    lb = rec.of("aws:lb/loadBalancer:LoadBalancer")[0].inputs
    assert lb["internal"] is True  # private client CIDRs only


def test_target_groups_probe_the_entrypoint_status_port(packed: Any) -> None:
    sp, rec, _ = packed
    groups = sorted(rec.of("aws:lb/targetGroup:TargetGroup"), key=lambda r: r.inputs["port"])
    assert [g.inputs["port"] for g in groups] == [8000, 8001]
    for i, g in enumerate(groups):
        hc = g.inputs["healthCheck"]
        assert (hc["path"], hc["port"], hc["protocol"], hc["matcher"]) == (
            "/health",
            str(8081 + i),
            "HTTP",
            "200",
        )
    listener = rec.of("aws:lb/listener:Listener")[0].inputs
    forward = listener["defaultActions"][0]["forward"]["targetGroups"]
    assert sorted(t["arn"] for t in forward) == [
        "arn:aws:mock:::chat-slot-0",
        "arn:aws:mock:::chat-slot-1",
    ]
    asg = rec.of("aws:autoscaling/group:Group")[0].inputs
    assert asg["healthCheckType"] == "ELB"
    assert sorted(asg["targetGroupArns"]) == sorted(t["arn"] for t in forward)
    # The grace period covers at least the time vLLM may take to come up.
    assert asg["healthCheckGracePeriod"] > startup_budget_s(sp)


def test_tags_and_region_on_every_resource_that_takes_them(packed: Any) -> None:
    _, rec, _ = packed
    taggable = 0
    for r in rec.resources:
        if r.typ == "llmpod:aws:VllmService":
            continue
        module, _, cls_name = r.typ.removeprefix("aws:").partition("/")
        cls = getattr(getattr(aws, module.split("/")[0]), cls_name.split(":")[1])
        params = inspect.signature(cls._internal_init).parameters
        if "region" in params:  # IAM is global; everything else goes to aws.region
            assert r.inputs.get("region") == AWS["region"], r.name
        if "tags" not in params:
            continue  # RolePolicy, MountTarget: AWS has no tags for them
        taggable += 1
        if r.typ == "aws:autoscaling/group:Group":
            tags = {t["key"]: t["value"] for t in r.inputs["tags"]}
            assert all(t["propagateAtLaunch"] for t in r.inputs["tags"])
        else:
            tags = r.inputs["tags"]
        assert tags == TAGS, r.name
    assert taggable == len(rec.resources) - 1 - 3  # component, RolePolicy, 2 mount targets
    lt = rec.of("aws:ec2/launchTemplate:LaunchTemplate")[0].inputs
    assert {s["resourceType"] for s in lt["tagSpecifications"]} == {
        "instance",
        "volume",
        "network-interface",
    }


def test_launch_template_carries_rendered_cloud_init_as_base64(packed: Any) -> None:
    _, rec, _ = packed
    lt = rec.of("aws:ec2/launchTemplate:LaunchTemplate")[0].inputs
    text = base64.b64decode(lt["userData"]).decode()
    doc = YAML(typ="safe").load(text)
    paths = {f["path"] for f in doc["write_files"]}
    assert {
        "/etc/llmpod/plan.json",
        "/etc/systemd/system/llmpod-serve-0.service",
        "/etc/systemd/system/llmpod-serve-1.service",
    } <= paths
    assert "chat-weights-id.efs.us-east-1.amazonaws.com:/" in text


def test_multi_instance_replica_gets_head_and_worker_groups() -> None:
    sp = service(
        model="llama-3.1-405b",
        max_model_len=32768,
        targets={},
        gpus={"types": ["H100"], "max_per_replica": 16, "max_nodes": 2},
        replicas={"min": 1, "max": 1},
        aws={**AWS, "weights_filesystem": "fsx-lustre"},
    )
    rec, outputs = build(sp)
    assert outputs[1:] == ["p5.48xlarge", 16, round(2 * 55.04, 2)]
    groups = {r.name: r.inputs for r in rec.of("aws:autoscaling/group:Group")}
    assert set(groups) == {"chat-r0-head", "chat-r0-workers"}
    assert len(groups["chat-r0-head"]["targetGroupArns"]) == 1
    assert groups["chat-r0-workers"].get("targetGroupArns", []) == []
    for g in groups.values():
        assert g["placementGroup"] == "chat-r0-id"
    assert rec.of("aws:ec2/placementGroup:PlacementGroup")[0].inputs["strategy"] == "cluster"
    templates = {r.name: r.inputs for r in rec.of("aws:ec2/launchTemplate:LaunchTemplate")}
    assert set(templates) == {"chat-head", "chat-worker"}
    for lt in templates.values():
        assert lt["metadataOptions"]["instanceMetadataTags"] == "enabled"
        assert lt["metadataOptions"]["httpTokens"] == "required"
    policy = json.loads(rec.of("aws:iam/rolePolicy:RolePolicy")[0].inputs["policy"])
    assert {s["Action"] for s in policy["Statement"]} == {
        "s3:ListBucket",
        "s3:GetObject",
        "ec2:DescribeInstances",
    }
    peers = [
        r.inputs
        for r in rec.of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["ipProtocol"] == "-1"
    ]
    assert peers == [
        {
            **peers[0],
            "securityGroupId": "chat-instances-id",
            "referencedSecurityGroupId": "chat-instances-id",
        }
    ]
    lustre = rec.of("aws:fsx/lustreFileSystem:LustreFileSystem")[0].inputs
    assert lustre["subnetIds"] == AWS["subnet_ids"][0]
    assert lustre["storageCapacity"] % 1200 == 0
    assert lustre["storageCapacity"] >= sp.plan.weights_gib_total
    head = base64.b64decode(templates["chat-head"]["userData"]).decode()
    assert "fs-9.fsx.us-east-1.amazonaws.com@tcp:/m9" in head


@pytest.mark.parametrize(
    ("environment", "overrides", "pattern"),
    [
        (
            "production",
            {"aws": {**AWS, "allowed_cidrs": ["0.0.0.0/0"]}},
            r"'0.0.0.0/0' opens the endpoint to the whole internet in production",
        ),
        (
            "staging",
            {"weights": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct"}},
            r"weights.source 'hf://meta-llama/Llama-3.1-8B-Instruct' is not an s3:// URL",
        ),
        (
            "staging",
            {"gpus": {"types": ["RTX-4090"], "max_per_replica": 2}},
            r"GPU RTX-4090 .* has no EC2 instance type",
        ),
    ],
)
def test_bad_input_registers_nothing(
    environment: str, overrides: dict[str, Any], pattern: str
) -> None:
    sp = service(environment, **overrides)
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, preview=False)
    from llmpod.aws.component import AwsVllmService

    with pytest.raises(LlmpodError, match=pattern):
        AwsVllmService(sp.name, sp)
    assert recorder.resources == []
