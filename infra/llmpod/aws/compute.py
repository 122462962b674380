"""Instance role, launch templates and Auto Scaling groups (pulumi-aws 7.x).

Hardening that the tests pin: IMDSv2 only (http_tokens "required") with a hop
limit of 1, so a container on a bridge network cannot fetch the role's
credentials; encrypted gp3 root volume; the role reads only the model's S3
prefix; instance metadata tags exposed only when Ray workers need them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from llmpod.aws.cloud_init import REPLICA_TAG, ROLE_TAG, Role, WeightsMount, render_user_data
from llmpod.aws.description import ROOT_DEVICE, AwsServiceDescription


def instance_profile(
    desc: AwsServiceDescription, parent: pulumi.Resource
) -> aws.iam.InstanceProfile:
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{desc.name}-instance",
        assume_role_policy=desc.assume_role_policy,
        description=f"llmpod {desc.name}: read weights from S3",
        tags=desc.tags,
        opts=child,
    )
    aws.iam.RolePolicy(
        f"{desc.name}-weights-read", role=role.id, policy=desc.role_policy, opts=child
    )
    return aws.iam.InstanceProfile(
        f"{desc.name}-instance", role=role.name, tags=desc.tags, opts=child
    )


def _encoded_user_data(
    desc: AwsServiceDescription, role: Role, mount: pulumi.Output[WeightsMount]
) -> pulumi.Output[str]:
    def encode(m: WeightsMount) -> str:
        text = render_user_data(desc.user_data, role, m)
        return base64.b64encode(text.encode()).decode()

    return mount.apply(encode)


def launch_template(
    desc: AwsServiceDescription,
    role: Role,
    mount: pulumi.Output[WeightsMount],
    profile: aws.iam.InstanceProfile,
    security_group: aws.ec2.SecurityGroup,
    parent: pulumi.Resource,
) -> aws.ec2.LaunchTemplate:
    suffix = "" if role == "serve" else f"-{role}"
    tag_types = ("instance", "volume", "network-interface")
    return aws.ec2.LaunchTemplate(
        f"{desc.name}{suffix}",
        image_id=desc.image_id,
        instance_type=desc.layout.instance.name,
        user_data=_encoded_user_data(desc, role, mount),
        iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
        vpc_security_group_ids=[security_group.id],
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=1,
            instance_metadata_tags="enabled" if desc.layout.multi_instance else "disabled",
        ),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=ROOT_DEVICE,
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    encrypted="true",
                    volume_size=desc.root_volume_gib,
                    volume_type="gp3",
                    delete_on_termination="true",
                ),
            )
        ],
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=t, tags=desc.tags)
            for t in tag_types
        ],
        update_default_version=True,
        tags=desc.tags,
        region=desc.target.region,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def scaling_group(
    desc: AwsServiceDescription,
    label: str,
    template: aws.ec2.LaunchTemplate,
    size: tuple[int, int, int],
    target_groups: Sequence[aws.lb.TargetGroup],
    extra_tags: dict[str, str],
    depends_on: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
    placement_group: aws.ec2.PlacementGroup | None = None,
) -> aws.autoscaling.Group:
    """``size`` is (min, desired, max) instances."""
    low, desired, high = size
    tags = {**desc.tags, **extra_tags}
    balanced = bool(target_groups)
    return aws.autoscaling.Group(
        f"{desc.name}-{label}",
        min_size=low,
        desired_capacity=desired,
        max_size=high,
        vpc_zone_identifiers=list(desc.target.subnet_ids),
        launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
            id=template.id, version=template.latest_version.apply(str)
        ),
        target_group_arns=[g.arn for g in target_groups],
        # ELB health: an instance whose slots never pass /health after the grace
        # period is replaced; EC2 health only catches dead hardware.
        health_check_type="ELB" if balanced else "EC2",
        health_check_grace_period=desc.grace_period_s,
        placement_group=placement_group.id if placement_group else None,
        # Launch the replacement before terminating the old instance: no capacity dip.
        instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
            strategy="Rolling",
            preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                min_healthy_percentage=100,
                max_healthy_percentage=200,
                instance_warmup=str(desc.grace_period_s),
            ),
        ),
        tags=[
            aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=True)
            for k, v in sorted(tags.items())
        ],
        region=desc.target.region,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def replica_tags(replica: int, role: Role) -> dict[str, str]:
    return {REPLICA_TAG: str(replica), ROLE_TAG: role}
