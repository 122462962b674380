"""Preflight for AWS services: does the account and region match the plan? (boto3 via the adaptor)

Run by `llmpod preflight STACK` and callable from a Pulumi program before it
registers resources (``require_preflight``). Never runs at import time or in a
validator; `llmpod render` and Pulumi mocks do not call it.

Checks, per service with ``backend: aws``:

1. the chosen instance type is offered in the region (describe_instance_type_offerings);
2. EC2's GPU facts match the catalog (describe_instance_types): same GPU count per
   instance; per-GPU memory at least the catalog figure (which is what CUDA reports,
   after the driver's reserve) and at most 10% above it (EC2 reports the nominal
   size: H100 81920 MiB vs 79.19 GiB in the catalog, A10G 22888 MiB vs 22.03 GiB;
   more than 10% means a different GPU than the plan assumed);
3. the weights exist: ``<prefix>/config.json`` answers head_object, and the weight
   files under the prefix (``*.safetensors``, else ``*.bin``/``*.pt``/``*.pth``) add up
   to the plan's checkpoint size within ±15% (the planner derives the size from the
   parameter count; shards add headers and some repos keep extra tensors);
4. service-quota headroom for the instance family's on-demand vCPUs at the
   service's largest size, when Service Quotas is readable (reported, never fatal
   when it is not);
5. the subnets exist in the region and span two or more availability zones
   (describe_subnets), over which the Auto Scaling group spreads the instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from llmpod.adaptors import aws as aws_sdk
from llmpod.aws.description import AwsServiceDescription, describe_service
from llmpod.errors import LlmpodError
from llmpod.planning.service import ServicePlan

MEMORY_HEADROOM = 1.10
SIZE_TOLERANCE = 0.15
GIB = 1024**3
#: Service Quotas codes of "Running On-Demand <family> instances" (vCPUs), by the
#: first letter of the instance family.
VCPU_QUOTAS = {"p": ("L-417A185B", "P instances"), "g": ("L-DB2E81BA", "G and VT instances")}
Status = Literal["ok", "fail", "info"]


@dataclass(frozen=True)
class Finding:
    service: str
    check: str
    status: Status
    message: str
    suggestions: tuple[str, ...] = ()


@dataclass
class PreflightReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "fail"]

    @property
    def ok(self) -> bool:
        return not self.failures


def _weight_files(objects: dict[str, int]) -> dict[str, int]:
    safetensors = {k: v for k, v in objects.items() if k.endswith(".safetensors")}
    if safetensors:  # repos that ship both formats would otherwise count twice
        return safetensors
    return {k: v for k, v in objects.items() if k.endswith((".bin", ".pt", ".pth"))}


def check_instance(
    sp: ServicePlan, desc: AwsServiceDescription, sleep: aws_sdk.Sleep
) -> list[Finding]:
    name, region = desc.name, desc.target.region
    inst = desc.layout.instance
    if not aws_sdk.instance_type_offered(region, inst.name, sleep=sleep):
        return [
            Finding(
                name,
                "instance_type",
                "fail",
                f"instance type {inst.name} (chosen for {desc.layout.gpus_per_replica} "
                f"GPU(s) per replica) is not offered in region {region}.",
                (
                    f"set aws.region to a region that offers {inst.name} (`aws ec2 "
                    f"describe-instance-type-offerings --filters Name=instance-type,"
                    f"Values={inst.name}`)",
                    "or put another GPU type first in gpus.types",
                ),
            )
        ]
    info = aws_sdk.describe_instance_type(region, inst.name, sleep=sleep)
    if info is None:
        return [
            Finding(
                name,
                "instance_type",
                "fail",
                f"EC2 in {region} does not describe instance type {inst.name}.",
                ("check the region and the catalog entry",),
            )
        ]
    e = sp.evaluation
    return [_compare_gpus(desc, info, e.gpu.memory_gib)]


def _compare_gpus(
    desc: AwsServiceDescription, info: aws_sdk.InstanceTypeInfo, catalog_gib: float
) -> Finding:
    name, inst = desc.name, desc.layout.instance
    reported_gib = info.gpu_memory_mib / 1024
    problems = []
    if info.gpu_count != inst.gpus:
        problems.append(f"EC2 reports {info.gpu_count} GPUs, the catalog {inst.gpus}")
    if not catalog_gib <= reported_gib <= catalog_gib * MEMORY_HEADROOM:
        problems.append(
            f"EC2 reports {reported_gib:.2f} GiB per GPU ({info.gpu_name}), the "
            f"plan assumes {catalog_gib:.2f} GiB (allowed: "
            f"{catalog_gib:.2f}–{catalog_gib * MEMORY_HEADROOM:.2f})"
        )
    if problems:
        return Finding(
            name,
            "instance_type",
            "fail",
            f"instance type {inst.name} does not match llmpod's GPU catalog: "
            + "; ".join(problems)
            + ".",
            ("fix the entry in infra/llmpod/gpus/catalog.py, then re-plan",),
        )
    return Finding(
        name,
        "instance_type",
        "ok",
        f"{inst.name} is offered in {desc.target.region}: {info.gpu_count} × "
        f"{info.gpu_name} {reported_gib:.1f} GiB, as the catalog says.",
    )


def check_weights(
    sp: ServicePlan, desc: AwsServiceDescription, sleep: aws_sdk.Sleep
) -> list[Finding]:
    name, t = desc.name, desc.target
    url = f"s3://{t.bucket}/{t.prefix}/"
    if aws_sdk.object_size(t.region, t.bucket, f"{t.prefix}/config.json", sleep=sleep) is None:
        return [
            Finding(
                name,
                "weights",
                "fail",
                f"weights missing: {url}config.json does not exist (weights.source).",
                (
                    f"upload the checkpoint: aws s3 sync <local checkpoint dir> {url}",
                    "or fix weights.source",
                ),
            )
        ]
    files = _weight_files(aws_sdk.list_prefix(t.region, t.bucket, t.prefix, sleep=sleep))
    expected = sp.plan.weights_gib_total
    if not files:
        return [
            Finding(
                name,
                "weights",
                "fail",
                f"weights missing: {url} has config.json but no *.safetensors, *.bin, "
                f"*.pt or *.pth files; the plan expects {expected:.1f} GiB.",
                (f"upload the weight shards to {url}",),
            )
        ]
    found = sum(files.values()) / GIB
    low, high = expected * (1 - SIZE_TOLERANCE), expected * (1 + SIZE_TOLERANCE)
    if not low <= found <= high:
        return [
            Finding(
                name,
                "weights",
                "fail",
                f"weights at {url} add up to {found:.2f} GiB in {len(files)} file(s), "
                f"but the plan for {sp.spec.model!r} expects {expected:.2f} GiB "
                f"(±{SIZE_TOLERANCE:.0%}: {low:.2f}–{high:.2f}); a different model, "
                f"dtype or quantization than the spec says.",
                (
                    "point weights.source at the checkpoint of spec.model",
                    "or fix model / dtype / quantization to describe these weights",
                ),
            )
        ]
    return [
        Finding(
            name,
            "weights",
            "ok",
            f"{url}: {len(files)} weight file(s), {found:.2f} GiB (plan: {expected:.2f} GiB).",
        )
    ]


def check_quota(desc: AwsServiceDescription, sleep: aws_sdk.Sleep) -> list[Finding]:
    inst = desc.layout.instance
    family = inst.name[0]
    if family not in VCPU_QUOTAS:
        return []
    code, label = VCPU_QUOTAS[family]
    needed = inst.vcpus * desc.layout.max_instance_count
    reading = aws_sdk.service_quota(desc.target.region, "ec2", code, sleep=sleep)
    if reading.value is None:
        return [
            Finding(
                desc.name,
                "quota",
                "info",
                f"quota 'Running On-Demand {label}' ({code}) is {reading.unreadable}; "
                f"this service needs {needed} vCPUs at its largest size.",
                ("grant servicequotas:GetServiceQuota to see the headroom",),
            )
        ]
    headroom = reading.value - needed
    status: Status = "ok" if headroom >= 0 else "fail"
    return [
        Finding(
            desc.name,
            "quota",
            status,
            f"quota 'Running On-Demand {label}' in {desc.target.region} is "
            f"{reading.value:g} vCPUs; this service needs {needed} "
            f"({desc.layout.max_instance_count} × {inst.name}), headroom {headroom:g} "
            f"(instances already running are not subtracted).",
            ()
            if status == "ok"
            else (
                f"request a quota increase for {code} in {desc.target.region}",
                "or lower replicas.max",
            ),
        )
    ]


def check_zones(desc: AwsServiceDescription, sleep: aws_sdk.Sleep) -> list[Finding]:
    """The subnets exist in the region and span two or more availability zones: the
    load balancer needs two, and the Auto Scaling group balances the instances over
    them, so 2+ replicas survive the loss of one zone."""
    region, subnets = desc.target.region, desc.target.subnet_ids
    zones = aws_sdk.subnet_zones(region, subnets, sleep=sleep)
    missing = [s for s in subnets if s not in zones]
    if missing:
        return [
            Finding(
                desc.name,
                "zones",
                "fail",
                f"aws.subnet_ids: {', '.join(missing)} not found in {region}.",
                (f"list subnets of aws.vpc_id that exist in {region}",),
            )
        ]
    distinct = sorted(set(zones.values()))
    if len(distinct) < 2:
        return [
            Finding(
                desc.name,
                "zones",
                "fail",
                f"aws.subnet_ids {', '.join(subnets)} are all in {distinct[0]}: the load "
                f"balancer needs subnets in two availability zones, and every instance "
                f"would share that zone's outages.",
                ("add a subnet of aws.vpc_id in another availability zone",),
            )
        ]
    n = desc.layout.instance_count
    return [
        Finding(
            desc.name,
            "zones",
            "ok",
            f"subnets span {', '.join(distinct)}; the Auto Scaling group balances its "
            f"{n} instance(s) over them.",
        )
    ]


def preflight_service(sp: ServicePlan, *, sleep: aws_sdk.Sleep | None = None) -> list[Finding]:
    import time

    pause = sleep or time.sleep
    desc = describe_service(sp)
    return [
        *check_instance(sp, desc, pause),
        *check_weights(sp, desc, pause),
        *check_quota(desc, pause),
        *check_zones(desc, pause),
    ]


def preflight_plans(
    plans: list[ServicePlan], *, sleep: aws_sdk.Sleep | None = None
) -> PreflightReport:
    report = PreflightReport()
    for sp in plans:
        if sp.spec.backend == "aws":  # this backend's services only
            report.findings.extend(preflight_service(sp, sleep=sleep))
    return report


def require_preflight(plans: list[ServicePlan]) -> PreflightReport:
    """For a Pulumi program: raise on the first failed check, before any resource exists."""
    report = preflight_plans(plans)
    if report.failures:
        first = report.failures[0]
        raise LlmpodError(
            code=f"aws_preflight_{first.check}",
            message=f"service {first.service!r}: {first.message}",
            suggestions=list(first.suggestions),
            exit_code=2,
        )
    return report
