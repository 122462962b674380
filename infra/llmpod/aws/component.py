"""AwsVllmService: one served model on EC2 GPU instances (a thin pulumi-aws component).

Everything is decided by ``describe_service`` before the first child is
registered; this file only wires the children together:

security groups → weights file system (+ mount targets) → instance role →
launch template(s) with cloud-init → load balancer + target groups + listener →
Auto Scaling group(s) (one for packed/single-instance replicas; a head and a
worker group per replica, in a cluster placement group, for multi-instance ones).

Outputs: ``endpoint`` (http://<load balancer>:<port>), ``instance_type``,
``gpus`` (GPUs running at the planned size) and ``cost_per_hour`` (whole
instances at catalog on-demand prices).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from llmpod.aws.balancer import balancer
from llmpod.aws.cloud_init import WeightsMount
from llmpod.aws.compute import instance_profile, launch_template, replica_tags, scaling_group
from llmpod.aws.description import AwsServiceDescription, describe_service
from llmpod.aws.network import security_groups
from llmpod.aws.storage import weights_filesystem
from llmpod.planning.service import ServicePlan

TYPE_TOKEN = "llmpod:aws:VllmService"


class AwsVllmService(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    instance_type: pulumi.Output[str]
    gpus: pulumi.Output[int]
    cost_per_hour: pulumi.Output[float]

    def __init__(
        self, name: str, service_plan: ServicePlan, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Validate first: a bad spec raises here, before this component or any
        # child is registered with the engine.
        desc = describe_service(service_plan)
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.description = desc

        groups = security_groups(desc, self)
        mount, storage = weights_filesystem(desc, groups.filesystem, self)
        profile = instance_profile(desc, self)
        lb = balancer(desc, groups.balancer, self)
        self._scaling(desc, mount, profile, groups.instances, lb.target_groups, storage)

        layout = desc.layout
        self.endpoint = pulumi.Output.concat(
            "http://", lb.load_balancer.dns_name, ":", str(desc.listener_port)
        )
        self.instance_type = pulumi.Output.from_input(layout.instance.name)
        self.gpus = pulumi.Output.from_input(desc.gpus_total)
        self.cost_per_hour = pulumi.Output.from_input(layout.cost_per_hour)
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "instance_type": self.instance_type,
                "gpus": self.gpus,
                "cost_per_hour": self.cost_per_hour,
            }
        )

    def _scaling(
        self,
        desc: AwsServiceDescription,
        mount: pulumi.Output[WeightsMount],
        profile: aws.iam.InstanceProfile,
        instances_sg: aws.ec2.SecurityGroup,
        target_groups: list[aws.lb.TargetGroup],
        storage: list[pulumi.Resource],
    ) -> None:
        layout = desc.layout
        if not layout.multi_instance:
            template = launch_template(desc, "serve", mount, profile, instances_sg, self)
            scaling_group(
                desc,
                "replicas",
                template,
                (layout.instance_count, layout.instance_count, layout.max_instance_count),
                target_groups,
                desc.serving_tags,
                storage,
                self,
            )
            return
        head = launch_template(desc, "head", mount, profile, instances_sg, self)
        worker = launch_template(desc, "worker", mount, profile, instances_sg, self)
        workers = layout.instances_per_replica - 1
        for replica in range(layout.instance_count // layout.instances_per_replica):
            # Cluster placement: the pipeline stages of one replica talk every step.
            placement = aws.ec2.PlacementGroup(
                f"{desc.name}-r{replica}",
                strategy="cluster",
                tags=desc.tags,
                region=desc.target.region,
                opts=pulumi.ResourceOptions(parent=self),
            )
            scaling_group(
                desc,
                f"r{replica}-head",
                head,
                (1, 1, 1),
                target_groups,
                {**replica_tags(replica, "head"), **desc.serving_tags},
                storage,
                self,
                placement,
            )
            scaling_group(
                desc,
                f"r{replica}-workers",
                worker,
                (workers, workers, workers),
                [],
                replica_tags(replica, "worker"),
                storage,
                self,
                placement,
            )
