"""Container images are pinned: a tag other than ``latest``; a digest in production.

A moving tag makes two replicas of one rollout run different vLLM builds and
makes a rollback pull whatever the tag points to today. Production requires
``@sha256:…`` so what was previewed is what runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmpod.policy.aws_fleet import LAUNCH_TEMPLATE, SERVICE_TAG, launch_template_images
from llmpod.policy.pods import containers, name_of, pod_templates


def parse_image(ref: str) -> tuple[str, str | None, str | None]:
    """(repository, tag, digest) of an image reference."""
    name, _, digest = ref.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = name.rpartition(":")
        return repo, tag, digest or None
    return name, None, digest or None


def _images(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where, image) of every container the resource runs: pod templates on
    Kubernetes, the ``docker run`` lines of a launch template's user data on AWS."""
    if resource_type == LAUNCH_TEMPLATE:
        tags = props.get("tags") if isinstance(props.get("tags"), Mapping) else {}
        name = props.get("name") or (tags or {}).get(SERVICE_TAG) or "(unnamed)"
        return [
            (f"LaunchTemplate {name}: docker run image {image!r}", image)
            for image in launch_template_images(props)
        ]
    return [
        (f"{name_of(resource_type, props)}: container {c.get('name')!r} image {image!r}", image)
        for t in pod_templates(resource_type, props)
        for c in containers(t.spec)
        for image in [str(c.get("image") or "")]
    ]


def check_images_pinned(
    resource_type: str, props: Mapping[str, Any], environment: str | None = None
) -> list[str]:
    out = []
    for where, image in _images(resource_type, props):
        _, tag, digest = parse_image(image)
        if digest is None and tag in (None, "latest"):
            out.append(
                f"{where} is not pinned ({'no tag' if tag is None else ':latest'} "
                f"moves); use a version tag, e.g. :v0.32.0, plus @sha256:… in "
                f"production."
            )
        elif digest is None and environment == "production":
            out.append(
                f"{where} has no digest; production requires "
                f"image@sha256:<digest> (set image.digest in the stack spec)."
            )
    return out
