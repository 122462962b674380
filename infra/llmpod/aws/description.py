"""Everything the AWS component creates, decided up front from a ServicePlan (pure).

``describe_service`` runs every check (placement, instance type, CIDRs, weights
source) before the component registers its first child, so bad input never
leaves half a stack behind. The component only maps this onto pulumi-aws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmpod import contract
from llmpod.aws import policies
from llmpod.aws.cloud_init import ExtraFetch, UserDataInputs
from llmpod.aws.instances import InstanceLayout, service_layout
from llmpod.aws.target import AwsTarget, aws_target, split_s3
from llmpod.backends.compile_cache import compile_cache_key
from llmpod.backends.fetches import extra_fetches
from llmpod.backends.runtime import (
    plan_file_payload,
    startup_budget_s,
    vllm_env,
    volume_size_gib,
)
from llmpod.errors import LlmpodError
from llmpod.models.resolve import WEIGHTS_MOUNT
from llmpod.planning.service import ServicePlan
from llmpod.policy.replicas import WAIVER

#: AWS Deep Learning Base AMI (NVIDIA driver, Docker, NVIDIA container toolkit),
#: resolved by EC2 at launch from this public SSM parameter, so every instance
#: refresh picks up the current patched AMI without a lookup at preview time.
DEFAULT_IMAGE_ID = (
    "resolve:ssm:/aws/service/deeplearning/ami/x86_64/"
    "base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id"
)
#: Root device of the Ubuntu-based DLAMI; the mapping overrides its size and encryption.
ROOT_DEVICE = "/dev/sda1"
#: The vLLM image is ~10–20 GB per version and rolling updates keep two.
ROOT_VOLUME_GIB = 200
LISTENER_PORT = contract.VLLM_PORT
HEALTH_PATH = "/health"
#: Boot, image pull and the warmup that follows vLLM's own /health.
BOOT_AND_PULL_S = 600
WARMUP_S = 300
#: The ALB keeps in-flight requests as long as the entrypoint drains.
DEREGISTRATION_DELAY_S = contract.DRAIN_TIMEOUT_S
#: FSx for Lustre PERSISTENT_2 sizes come in 1200 GiB steps.
LUSTRE_STEP_GIB = 1200
MANAGED_BY = "llmpod"


@dataclass(frozen=True)
class HealthCheck:
    path: str
    interval_s: int
    timeout_s: int
    healthy_threshold: int
    unhealthy_threshold: int
    matcher: str


@dataclass(frozen=True)
class AwsServiceDescription:
    name: str
    environment: str
    target: AwsTarget
    layout: InstanceLayout
    tags: dict[str, str]
    image_id: str
    root_volume_gib: int
    listener_port: int
    health_check: HealthCheck
    grace_period_s: int
    deregistration_delay_s: int
    assume_role_policy: str
    role_policy: str
    lustre_capacity_gib: int
    user_data: UserDataInputs
    #: Tags of the load-balanced (serving) Auto Scaling groups beyond ``tags``: the
    #: single-replica waiver the production-replicas policy reads (policy/replicas.py).
    serving_tags: dict[str, str]

    @property
    def gpus_total(self) -> int:
        return self.layout.instance_count * self.layout.instance.gpus


def _model_dir(sp: ServicePlan) -> str:
    path = sp.model.container_path
    prefix = WEIGHTS_MOUNT + "/"
    if not path.startswith(prefix):
        raise LlmpodError(
            code="aws_invalid_target",
            message=(
                f"service {sp.name!r}: model {sp.spec.model!r} is a local path; AWS "
                f"instances read weights from the shared file system under "
                f"{WEIGHTS_MOUNT}, not from this machine."
            ),
            suggestions=[
                "use a catalog name, hf://org/name or s3://bucket/prefix as model",
                "with weights.source: s3://bucket/prefix",
            ],
        )
    return path.removeprefix(prefix)


def _extra_fetches(sp: ServicePlan) -> tuple[ExtraFetch, ...]:
    """The draft and adapters as S3 copies: the AWS loader reads S3 only, through an
    instance role limited to the prefixes named here."""
    out = []
    for f in extra_fetches(sp):
        what = "vllm.speculative_model" if f.kind == "draft" else "vllm.adapters"
        bucket, prefix = split_s3(f.uri)
        if f.scheme != "s3" or not prefix:
            raise LlmpodError(
                code="aws_invalid_target",
                message=(
                    f"service {sp.name!r}: {what} source {f.uri!r} is not an "
                    "s3://bucket/prefix URL; the AWS backend fills its shared file system "
                    "from S3 only, through an instance role limited to those prefixes."
                ),
                suggestions=[
                    "copy it to S3 once (e.g. `aws s3 sync`) and name s3://bucket/prefix",
                ],
            )
        target = f.target_dir.removeprefix(WEIGHTS_MOUNT + "/")
        out.append(ExtraFetch(key=f.key, s3_url=f"s3://{bucket}/{prefix}/", target_dir=target))
    return tuple(out)


def grace_period_s(sp: ServicePlan) -> int:
    """ASG health-check grace: fill the volume once, boot, pull, load, warm up.

    Replacing an instance during its grace period would restart the slow part; the
    target group still keeps traffic away until /health (ready after warmup) is 200.
    """
    fill_s = math.ceil(sp.plan.weights_gib_total * 1024 / sp.spec.weights.load_bandwidth_mb_s)
    return startup_budget_s(sp) + fill_s + BOOT_AND_PULL_S + WARMUP_S


def describe_service(sp: ServicePlan) -> AwsServiceDescription:
    """The AMI is the spec's aws.ami_id, else the DLAMI."""
    target = aws_target(sp)
    image_id = (sp.spec.aws.ami_id if sp.spec.aws else None) or DEFAULT_IMAGE_ID
    layout = service_layout(sp)
    extras = _extra_fetches(sp)
    tags = {"environment": sp.environment, "managed-by": MANAGED_BY, "service": sp.name}
    inputs = UserDataInputs(
        service=sp.name,
        environment=sp.environment,
        region=target.region,
        image=sp.spec.image.reference,
        plan_payload=plan_file_payload(sp),
        layout=layout,
        s3_url=f"s3://{target.bucket}/{target.prefix}/",
        revision=sp.spec.revision or "unpinned",
        model_dir=_model_dir(sp),
        startup_timeout_s=startup_budget_s(sp),
        compile_cache_key=compile_cache_key(sp),
        vllm_env=tuple(sorted(vllm_env(sp).items())),
        extra_fetches=extras,
    )
    return AwsServiceDescription(
        name=sp.name,
        environment=sp.environment,
        target=target,
        layout=layout,
        tags=tags,
        image_id=image_id,
        root_volume_gib=ROOT_VOLUME_GIB,
        listener_port=LISTENER_PORT,
        health_check=HealthCheck(
            path=HEALTH_PATH,
            interval_s=15,
            timeout_s=5,
            healthy_threshold=2,
            unhealthy_threshold=3,
            matcher="200",
        ),
        grace_period_s=grace_period_s(sp),
        deregistration_delay_s=DEREGISTRATION_DELAY_S,
        assume_role_policy=policies.assume_role_policy(),
        role_policy=policies.weights_read_policy(
            target.bucket,
            target.prefix,
            find_ray_head=layout.multi_instance,
            extra=[split_s3(f.s3_url) for f in extras],
        ),
        lustre_capacity_gib=LUSTRE_STEP_GIB * math.ceil(volume_size_gib(sp) / LUSTRE_STEP_GIB),
        user_data=inputs,
        serving_tags=_waiver_tags(sp),
    )


#: Auto Scaling group (and EC2) tag values hold at most 256 characters.
MAX_TAG_VALUE_CHARS = 256


def _waiver_tags(sp: ServicePlan) -> dict[str, str]:
    reason = (sp.spec.replicas.single_replica_reason or "").strip()
    if len(reason) > MAX_TAG_VALUE_CHARS:
        raise LlmpodError(
            code="aws_invalid_target",
            message=(
                f"service {sp.name!r}: replicas.single_replica_reason is {len(reason)} "
                f"characters; on AWS it becomes the {WAIVER} tag of the Auto Scaling "
                f"groups, which holds at most {MAX_TAG_VALUE_CHARS}."
            ),
            suggestions=[f"shorten replicas.single_replica_reason to {MAX_TAG_VALUE_CHARS}"],
        )
    return {WAIVER: reason} if reason else {}
