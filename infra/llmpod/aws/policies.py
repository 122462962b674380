"""IAM policy documents for the serving instances (pure JSON, sorted keys).

The instance role may read the model's prefix and nothing else in S3: the
loader runs `aws s3 sync s3://bucket/prefix/ …`, which needs ListBucket on the
bucket (restricted by an ``s3:prefix`` condition, because ListBucket is a
bucket-level action that no object ARN can scope) and GetObject on the prefix's
objects. Multi-instance replicas add ec2:DescribeInstances so workers can find
their Ray head by tag; EC2 supports no resource-level scoping for Describe*
actions, so that one statement is on "*" and is read-only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from llmpod.errors import LlmpodError
from llmpod.spec.grammars import bucket_problem, key_prefix_problem, shown

_VERSION = "2012-10-17"


def assume_role_policy() -> str:
    """Only EC2 instances (through the instance profile) may assume the role."""
    return _dump(
        {
            "Version": _VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def _checked_parts(bucket: str, prefix: str) -> None:
    """ARNs are assembled only from a valid bucket name and a literal key prefix.

    The spec refuses wildcards already; this is the builder's own gate, because a
    '*' or '?' here (``s3://llmpod-models/*``, ``s3://*/models``) or an IAM policy
    variable (``${aws:username}``) would silently widen the grant to other keys or
    to every bucket."""
    for part, value, problem in (
        ("bucket", bucket, bucket_problem(bucket)),
        ("key prefix", prefix, key_prefix_problem(prefix)),
    ):
        if problem:
            raise LlmpodError(
                code="unsafe_iam_policy",
                message=f"refusing to build the instance role's S3 policy: the {part} "
                f"{shown(value)} is not literal ({problem}).",
                suggestions=[
                    "set weights.source to s3://bucket/prefix with a real bucket "
                    "name and a key prefix without wildcards or '..'"
                ],
            )


def weights_read_policy(
    bucket: str,
    prefix: str,
    *,
    find_ray_head: bool,
    extra: Sequence[tuple[str, str]] = (),
) -> str:
    """Read the checkpoint's prefix, and each (bucket, prefix) of ``extra`` (the
    draft's and the adapters'), and nothing else."""
    _checked_parts(bucket, prefix)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ListModelPrefix",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
            # Both the prefix itself and everything under it: `aws s3 sync` lists
            # with Prefix="<prefix>/", a console or `ls` without the slash.
            "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        },
        {
            "Sid": "ReadModelObjects",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*",
        },
    ]
    for i, (extra_bucket, extra_prefix) in enumerate(extra, 1):
        _checked_parts(extra_bucket, extra_prefix)
        statements += [
            {
                "Sid": f"ListExtraPrefix{i}",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{extra_bucket}",
                "Condition": {"StringLike": {"s3:prefix": [extra_prefix, f"{extra_prefix}/*"]}},
            },
            {
                "Sid": f"ReadExtraObjects{i}",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{extra_bucket}/{extra_prefix}/*",
            },
        ]
    if find_ray_head:
        statements.append(
            {
                "Sid": "FindRayHeadByTag",
                "Effect": "Allow",
                "Action": "ec2:DescribeInstances",
                "Resource": "*",
            }
        )
    return _dump({"Version": _VERSION, "Statement": statements})


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))
