"""Security groups for one AWS service (pulumi-aws 7.x).

Three groups, each admitting only what the next hop needs:
load balancer ← client CIDRs on the listener port; instances ← load balancer on
the slots' vLLM and status ports (plus each other for Ray/NCCL when a replica
spans instances); weights file system ← instances on its protocol's ports.
Inline rules where no other group is referenced; separate rule resources for
load balancer ↔ instances, which would otherwise reference each other in a cycle.
Declaring ``egress`` inline replaces AWS's default allow-all egress rule.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from llmpod.aws.description import AwsServiceDescription

#: NFS for EFS; Lustre's LNet port 988 and 1018-1023 (FSx for Lustre user guide,
#: "File system access control with Amazon VPC").
_FS_PORTS = {"efs": [(2049, 2049)], "fsx-lustre": [(988, 988), (1018, 1023)]}


@dataclass(frozen=True)
class SecurityGroups:
    balancer: aws.ec2.SecurityGroup
    instances: aws.ec2.SecurityGroup
    filesystem: aws.ec2.SecurityGroup


def _client_ingress(desc: AwsServiceDescription) -> list[aws.ec2.SecurityGroupIngressArgs]:
    cidrs = desc.target.allowed_cidrs
    v4 = [c for c in cidrs if ipaddress.ip_network(c).version == 4]
    v6 = [c for c in cidrs if ipaddress.ip_network(c).version == 6]
    return [
        aws.ec2.SecurityGroupIngressArgs(
            description="clients (aws.allowed_cidrs) to the serving port",
            protocol="tcp",
            from_port=desc.listener_port,
            to_port=desc.listener_port,
            cidr_blocks=v4 or None,
            ipv6_cidr_blocks=v6 or None,
        )
    ]


def security_groups(desc: AwsServiceDescription, parent: pulumi.Resource) -> SecurityGroups:
    name, tags, vpc = desc.name, desc.tags, desc.target.vpc_id
    # pulumi-aws 7: per-resource region, so aws.region in the spec needs no extra provider.
    region = desc.target.region
    child = pulumi.ResourceOptions(parent=parent)
    slots = desc.layout.slots
    vllm_ports = (slots[0].vllm_port, slots[-1].vllm_port)
    status_ports = (slots[0].status_port, slots[-1].status_port)

    balancer = aws.ec2.SecurityGroup(
        f"{name}-lb",
        vpc_id=vpc,
        description=f"llmpod {name}: load balancer",
        ingress=_client_ingress(desc),
        egress=[],
        tags=tags,
        region=region,
        opts=child,
    )
    instances = aws.ec2.SecurityGroup(
        f"{name}-instances",
        vpc_id=vpc,
        description=f"llmpod {name}: GPU instances",
        # Outbound: S3 (weights), the image registry, SSM. Use VPC endpoints and a
        # tighter egress list in accounts that forbid internet egress.
        egress=[
            aws.ec2.SecurityGroupEgressArgs(
                description="S3, image registry, SSM",
                protocol="-1",
                from_port=0,
                to_port=0,
                cidr_blocks=["0.0.0.0/0"],
            )
        ],
        tags=tags,
        region=region,
        opts=child,
    )
    filesystem = aws.ec2.SecurityGroup(
        f"{name}-weights",
        vpc_id=vpc,
        description=f"llmpod {name}: shared weights",
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                description="GPU instances mount the weights",
                protocol="tcp",
                from_port=lo,
                to_port=hi,
                security_groups=[instances.id],
            )
            for lo, hi in _FS_PORTS[desc.target.weights_filesystem]
        ]
        # Lustre servers talk to each other through the same group.
        + (
            [
                aws.ec2.SecurityGroupIngressArgs(
                    description="Lustre servers",
                    protocol="tcp",
                    from_port=988,
                    to_port=1023,
                    self=True,
                )
            ]
            if desc.target.weights_filesystem == "fsx-lustre"
            else []
        ),
        egress=[],
        tags=tags,
        region=region,
        opts=child,
    )

    for label, (lo, hi) in (("vllm", vllm_ports), ("status", status_ports)):
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-lb-to-{label}",
            security_group_id=balancer.id,
            referenced_security_group_id=instances.id,
            ip_protocol="tcp",
            from_port=lo,
            to_port=hi,
            description=f"load balancer to {label} ports",
            tags=tags,
            region=region,
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-{label}-from-lb",
            security_group_id=instances.id,
            referenced_security_group_id=balancer.id,
            ip_protocol="tcp",
            from_port=lo,
            to_port=hi,
            description=f"{label} ports from the load balancer",
            tags=tags,
            region=region,
            opts=child,
        )
    if desc.layout.multi_instance:
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-ray-peers",
            security_group_id=instances.id,
            referenced_security_group_id=instances.id,
            ip_protocol="-1",
            description="Ray and NCCL between the instances of a replica",
            tags=tags,
            region=region,
            opts=child,
        )
    return SecurityGroups(balancer=balancer, instances=instances, filesystem=filesystem)
