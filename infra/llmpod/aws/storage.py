"""Shared weights file system (EFS or FSx for Lustre) and its user-data mount (pulumi-aws 7.x).

One file system per service, mounted by every instance: the checkpoint crosses
S3 once (the loader in cloud-init), not once per instance, and a replaced
instance starts from a filled volume — the "every pod re-downloads weights"
failure does not exist here.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from llmpod.aws.cloud_init import WeightsMount, efs_mount, lustre_mount
from llmpod.aws.description import AwsServiceDescription


def weights_filesystem(
    desc: AwsServiceDescription, security_group: aws.ec2.SecurityGroup, parent: pulumi.Resource
) -> tuple[pulumi.Output[WeightsMount], list[pulumi.Resource]]:
    """(the mount as an Output, resources instances must wait for)."""
    name, tags, target = desc.name, desc.tags, desc.target
    child = pulumi.ResourceOptions(parent=parent)
    if target.weights_filesystem == "fsx-lustre":
        lustre = aws.fsx.LustreFileSystem(
            f"{name}-weights",
            storage_capacity=desc.lustre_capacity_gib,
            # Lustre file systems live in one subnet (one AZ); instances in other
            # zones reach it across zones. pulumi-aws 7 types subnet_ids as one string.
            subnet_ids=target.subnet_ids[0],
            deployment_type="PERSISTENT_2",
            per_unit_storage_throughput=250,
            security_group_ids=[security_group.id],
            # PERSISTENT_2 data is always encrypted at rest (AWS-managed key by default).
            data_compression_type="LZ4",
            tags=tags,
            region=target.region,
            opts=child,
        )
        mount = pulumi.Output.all(lustre.dns_name, lustre.mount_name).apply(
            lambda v: lustre_mount(str(v[0]), str(v[1]))
        )
        return mount, [lustre]
    efs = aws.efs.FileSystem(
        f"{name}-weights",
        encrypted=True,
        performance_mode="generalPurpose",
        # Elastic throughput: the first fill and every cold start read at full speed
        # without provisioning (bursting mode throttles a small file system).
        throughput_mode="elastic",
        tags=tags,
        region=target.region,
        opts=child,
    )
    targets: list[pulumi.Resource] = [
        aws.efs.MountTarget(
            f"{name}-weights-{i}",
            file_system_id=efs.id,
            subnet_id=subnet,
            security_groups=[security_group.id],
            region=target.region,
            opts=child,
        )
        for i, subnet in enumerate(target.subnet_ids)
    ]
    region = target.region
    return efs.id.apply(lambda fid: efs_mount(str(fid), region)), [efs, *targets]
