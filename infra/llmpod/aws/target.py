"""Where on AWS a service goes, checked before any resource is registered (pure).

The spec's ``aws`` section is optional in form (defaults let a stack file stay
short), but serving needs a VPC, two subnets and an S3 copy of the weights. These
checks run in the description builder, so a bad value stops `pulumi preview` and
`llmpod render` with one paragraph instead of a half-created stack.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from llmpod.errors import LlmpodError
from llmpod.planning.service import ServicePlan

_VPC = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_PUBLIC = {"0.0.0.0/0", "::/0"}


@dataclass(frozen=True)
class AwsTarget:
    region: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    allowed_cidrs: tuple[str, ...]
    weights_filesystem: str
    bucket: str
    #: Key prefix of the checkpoint, without leading or trailing '/'.
    prefix: str

    @property
    def internet_facing(self) -> bool:
        """Clients outside private address space need an internet-facing load balancer."""
        return any(not ipaddress.ip_network(c).is_private for c in self.allowed_cidrs)


def _bad(name: str, field: str, value: object, problem: str, fix: str) -> LlmpodError:
    return LlmpodError(
        code="aws_invalid_target",
        message=f"service {name!r}: {field} {value!r} {problem}.",
        suggestions=[fix],
    )


def split_s3(url: str) -> tuple[str, str]:
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return bucket, prefix.strip("/")


def aws_target(sp: ServicePlan) -> AwsTarget:
    """The validated AWS placement of ``sp``, or an LlmpodError naming field and fix."""
    spec = sp.spec
    name = spec.name
    aws = spec.aws
    if spec.backend != "aws" or aws is None:
        raise _bad(
            name,
            "backend",
            spec.backend,
            "is not 'aws'",
            "set backend: aws and an aws: section, or use the Kubernetes backend",
        )
    if aws.vpc_id is None or not _VPC.fullmatch(aws.vpc_id):
        raise _bad(
            name,
            "aws.vpc_id",
            aws.vpc_id,
            "is not a VPC id",
            "set aws.vpc_id to the VPC the instances and load balancer live in "
            "(vpc-0123456789abcdef0)",
        )
    bad_subnets = [s for s in aws.subnet_ids if not _SUBNET.fullmatch(s)]
    if bad_subnets:
        raise _bad(
            name,
            "aws.subnet_ids",
            bad_subnets,
            "are not subnet ids",
            "use ids of the form subnet-0123456789abcdef0",
        )
    if len(set(aws.subnet_ids)) < 2:
        raise _bad(
            name,
            "aws.subnet_ids",
            list(aws.subnet_ids),
            "must name at least two subnets: an Application Load Balancer needs "
            "subnets in two availability zones",
            "list two or more private subnets of aws.vpc_id in different zones",
        )
    cidrs = _check_cidrs(sp)
    source = spec.weights_source
    if not source.startswith("s3://"):
        raise _bad(
            name,
            "weights.source",
            source,
            "is not an s3:// URL; the AWS backend fills its shared file system from "
            "S3 through an instance role limited to that prefix",
            "copy the checkpoint to S3 once (e.g. `aws s3 sync`) and set "
            "weights.source: s3://bucket/prefix",
        )
    bucket, prefix = split_s3(source)
    if not bucket or not prefix:
        raise _bad(
            name,
            "weights.source",
            source,
            "needs both a bucket and a key prefix",
            "use s3://bucket/prefix; a whole-bucket grant is not least privilege",
        )
    return AwsTarget(
        region=aws.region,
        vpc_id=aws.vpc_id,
        subnet_ids=tuple(sorted(set(aws.subnet_ids))),
        allowed_cidrs=cidrs,
        weights_filesystem=aws.weights_filesystem,
        bucket=bucket,
        prefix=prefix,
    )


def _check_cidrs(sp: ServicePlan) -> tuple[str, ...]:
    spec = sp.spec
    aws = spec.aws
    assert aws is not None
    if not aws.allowed_cidrs:
        raise _bad(
            spec.name,
            "aws.allowed_cidrs",
            [],
            "is empty, so nobody could reach the endpoint",
            "list the client CIDRs, e.g. [10.0.0.0/8]",
        )
    out = []
    for raw in aws.allowed_cidrs:
        try:
            net = ipaddress.ip_network(raw, strict=True)
        except ValueError as exc:
            raise _bad(
                spec.name,
                "aws.allowed_cidrs",
                raw,
                f"is not a network CIDR ({exc})",
                "write address/prefix with the host bits zero, e.g. 10.0.0.0/8",
            ) from None
        out.append(str(net))
    public = sorted(c for c in out if c in _PUBLIC)
    # StackSpec refuses this too; repeated here because a ServicePlan can be built
    # without a StackSpec (tests, other programs) and this is the last gate.
    if public and sp.environment == "production" and not aws.allow_public:
        raise _bad(
            spec.name,
            "aws.allowed_cidrs",
            public[0],
            "opens the endpoint to the whole internet in production",
            "list the client CIDRs, or set aws.allow_public: true if the endpoint really is public",
        )
    return tuple(sorted(set(out)))
