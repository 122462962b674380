"""Application Load Balancer, one target group per slot, one listener (pulumi-aws 7.x).

Target groups probe the entrypoint's status server (``/health`` on the slot's
status port), which answers 200 only after warmup — not vLLM's own /health,
which is up before the first request has compiled anything. An ASG registers
instances on a target group's port only, so each packed slot gets its own
target group and the listener spreads requests over them by equal weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from llmpod.aws.description import AwsServiceDescription

#: Long non-streaming generations exceed the ALB's 60 s default idle timeout.
IDLE_TIMEOUT_S = 600


@dataclass(frozen=True)
class Balancer:
    load_balancer: aws.lb.LoadBalancer
    target_groups: list[aws.lb.TargetGroup]


def balancer(
    desc: AwsServiceDescription, security_group: aws.ec2.SecurityGroup, parent: pulumi.Resource
) -> Balancer:
    name, tags, hc = desc.name, desc.tags, desc.health_check
    child = pulumi.ResourceOptions(parent=parent)
    lb = aws.lb.LoadBalancer(
        f"{name}-lb",
        name_prefix="llm",
        load_balancer_type="application",
        internal=not desc.target.internet_facing,
        security_groups=[security_group.id],
        subnets=list(desc.target.subnet_ids),
        drop_invalid_header_fields=True,
        idle_timeout=IDLE_TIMEOUT_S,
        tags=tags,
        region=desc.target.region,
        opts=child,
    )
    groups = [
        aws.lb.TargetGroup(
            f"{name}-slot-{slot.index}",
            name_prefix="llm",
            port=slot.vllm_port,
            protocol="HTTP",
            target_type="instance",
            vpc_id=desc.target.vpc_id,
            deregistration_delay=desc.deregistration_delay_s,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                protocol="HTTP",
                path=hc.path,
                port=str(slot.status_port),
                matcher=hc.matcher,
                interval=hc.interval_s,
                timeout=hc.timeout_s,
                healthy_threshold=hc.healthy_threshold,
                unhealthy_threshold=hc.unhealthy_threshold,
            ),
            tags=tags,
            region=desc.target.region,
            opts=child,
        )
        for slot in desc.layout.slots
    ]
    aws.lb.Listener(
        f"{name}-http",
        load_balancer_arn=lb.arn,
        port=desc.listener_port,
        protocol="HTTP",
        default_actions=[
            aws.lb.ListenerDefaultActionArgs(
                type="forward",
                forward=aws.lb.ListenerDefaultActionForwardArgs(
                    target_groups=[
                        aws.lb.ListenerDefaultActionForwardTargetGroupArgs(arn=g.arn, weight=1)
                        for g in groups
                    ]
                ),
            )
        ],
        tags=tags,
        region=desc.target.region,
        opts=child,
    )
    return Balancer(load_balancer=lb, target_groups=groups)
