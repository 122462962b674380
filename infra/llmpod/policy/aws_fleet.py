"""What the policies read from the AWS backend's resources (pulumi-aws 7.x props).

The Kubernetes rules read pod templates; on AWS the same facts sit elsewhere:

* the image every serving container runs is the image of the ``docker run`` lines
  in the launch template's ``userData`` (base64 cloud-config rendered by
  infra/llmpod/aws/cloud_init.py: one systemd unit per replica slot);
* a service's replicas are its load-balanced Auto Scaling groups' instances ×
  target groups (one target group per replica slot on an instance; one head group
  per multi-instance replica), and those instances are its failure domains.

Values Pulumi does not know yet (``userData`` before the file system exists, on a
first preview) are absent from the props: nothing is read from them, and the same
rules run again at ``pulumi up``, where they are known.
"""

from __future__ import annotations

import base64
import binascii
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
AUTOSCALING_GROUP = "aws:autoscaling/group:Group"
#: Tags llmpod puts on every AWS resource (aws/description.py).
SERVICE_TAG = "service"
MANAGED_BY_TAG = "managed-by"
#: The single-replica waiver, as a tag on the service's serving groups (the key of the
#: Kubernetes annotation: policy/replicas.py WAIVER).
WAIVER_TAG = "llmpod.dev/pdb-waiver"
#: The user data of a launch template is at most 16 KiB before base64 (EC2 limit);
#: anything much larger is not ours to parse.
MAX_USER_DATA_CHARS = 64 * 1024
#: docker run options that take no value (those llmpod and common templates use).
_FLAGS = {"--rm", "-d", "--detach", "-i", "--interactive", "-t", "--tty", "--init"}


def _user_data(props: Mapping[str, Any]) -> str | None:
    raw = props.get("userData")
    if not isinstance(raw, str) or not raw or len(raw) > MAX_USER_DATA_CHARS:
        return None
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return raw  # plain-text user data is allowed too


def _image_of(words: list[str]) -> str | None:
    """The image of one ``docker run`` command (its first operand); None for any
    other command (a comment that mentions docker run is not one)."""
    if len(words) < 2 or words[0].rsplit("/", 1)[-1] != "docker" or words[1] != "run":
        return None
    rest = words[2:]
    i = 0
    while i < len(rest):
        word = rest[i]
        if not word.startswith("-"):
            return word
        i += 1 if (word in _FLAGS or "=" in word) else 2
    return None


def launch_template_images(props: Mapping[str, Any]) -> list[str]:
    """Images the launch template's user data runs with ``docker run`` (sorted, once)."""
    text = _user_data(props)
    if text is None:
        return []
    images: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        # systemd units (ExecStart=, a leading '-' ignores failure) or a script line.
        command = line.partition("=")[2] if line.startswith("Exec") else line
        if "docker" not in command or "run" not in command:
            continue
        try:
            words = shlex.split(command.lstrip("-@+!"))
        except ValueError:
            continue
        image = _image_of(words)
        if image:
            images.add(image)
    return sorted(images)


def _tags(props: Mapping[str, Any]) -> dict[str, str]:
    """An Auto Scaling group's tags: a list of {key, value, propagateAtLaunch}."""
    out: dict[str, str] = {}
    for tag in props.get("tags") or []:
        if isinstance(tag, Mapping) and isinstance(tag.get("key"), str):
            out[tag["key"]] = str(tag.get("value") or "")
    return out


@dataclass(frozen=True)
class AwsFleet:
    """One llmpod AWS service as its Auto Scaling groups say."""

    service: str
    urn: str
    replicas: int
    instances: int
    waiver: str


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def aws_fleets(resources: Sequence[Any]) -> list[AwsFleet]:
    """The serving fleets of llmpod's AWS services: their load-balanced groups (Ray
    worker groups take no traffic), summed per ``service`` tag."""
    by_service: dict[str, list[tuple[str, Mapping[str, Any], dict[str, str]]]] = {}
    for r in resources:
        if r.type != AUTOSCALING_GROUP:
            continue
        tags = _tags(r.props)
        arns = r.props.get("targetGroupArns")
        # Not yet known (a list Pulumi has not resolved) or empty (Ray workers): skip.
        if tags.get(MANAGED_BY_TAG) != "llmpod" or not isinstance(arns, list) or not arns:
            continue
        by_service.setdefault(tags.get(SERVICE_TAG, r.urn), []).append((r.urn, r.props, tags))
    out = []
    for service, groups in sorted(by_service.items()):
        instances = sum(_int(p.get("minSize")) for _, p, _ in groups)
        replicas = sum(_int(p.get("minSize")) * len(p["targetGroupArns"]) for _, p, _ in groups)
        waiver = next(
            (t.get(WAIVER_TAG, "").strip() for _, _, t in groups if t.get(WAIVER_TAG)), ""
        )
        out.append(AwsFleet(service, groups[0][0], replicas, instances, waiver))
    return out
