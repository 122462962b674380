"""Render the image's Dockerfile (and its .dockerignore) for a vLLM version.

Pure: strings in, strings out. ``llmpod image context DIR`` (build_context.py)
writes them with the entrypoint package beside them. The committed
``images/vllm/Dockerfile`` is ``render_dockerfile()`` for the default version, kept
for review; a unit test keeps them equal.
"""

from __future__ import annotations

import re

from llmpod import contract
from llmpod.errors import LlmpodError
from llmpod.templating import environment

from .runtime_files import IMAGE_PACKAGE, RUNTIME_MODULES

#: The vLLM version the planner's memory model targets by default.
DEFAULT_VLLM_VERSION = "0.32.0"
DEFAULT_BASE_IMAGE = "vllm/vllm-openai"
#: Where the entrypoint package sits in the build context (`llmpod image context`).
SOURCE_DIR = IMAGE_PACKAGE

_VERSION = re.compile(r"^\d+\.\d+\.\d+(?:rc\d+|\.post\d+)?$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_IMAGE_NAME = re.compile(r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::\d+/[a-z0-9._/-]+)?$")


def _check_inputs(vllm_version: str, base_image: str, digest: str | None) -> None:
    if not _VERSION.fullmatch(vllm_version):
        raise LlmpodError(
            code="bad_vllm_version",
            message=f"image: vllm_version {vllm_version!r} is not a release version."
            " Images are pinned to an exact release so the plan's memory model matches"
            " the running vLLM; 'latest' and tags with a leading 'v' are refused.",
            suggestions=[f"use a version such as '{DEFAULT_VLLM_VERSION}'"],
        )
    # Registries with a port (host:5000/name) are fine; a tag or digest on the name is not.
    tail = base_image.rsplit("/", 1)[-1]
    if "@" in base_image or ":" in tail or not _IMAGE_NAME.fullmatch(base_image):
        raise LlmpodError(
            code="bad_base_image",
            message=f"image: base_image {base_image!r} must be a repository name without"
            " tag or digest; the tag comes from vllm_version and the digest from digest.",
            suggestions=[f"use '{DEFAULT_BASE_IMAGE}'"],
        )
    if digest is not None and not _DIGEST.fullmatch(digest):
        raise LlmpodError(
            code="bad_image_digest",
            message=f"image: digest {digest!r} is not 'sha256:' followed by 64 lowercase"
            " hex digits.",
            suggestions=[
                f"copy it from `docker buildx imagetools inspect {base_image}:v{vllm_version}`",
                "or leave the digest out to pin by tag only",
            ],
        )


def render_dockerfile(
    vllm_version: str = DEFAULT_VLLM_VERSION,
    *,
    base_image: str = DEFAULT_BASE_IMAGE,
    digest: str | None = None,
    uid: int = contract.RUN_AS_USER,
    vllm_port: int = contract.VLLM_PORT,
    status_port: int = contract.STATUS_PORT,
    python: str = "python3",
) -> str:
    """The Dockerfile text; raises ``LlmpodError`` for an unpinned or malformed base."""
    _check_inputs(vllm_version, base_image, digest)
    template = environment().get_template("Dockerfile.j2")
    return template.render(
        base_image=base_image,
        vllm_version=vllm_version,
        digest=digest,
        uid=uid,
        vllm_port=vllm_port,
        status_port=status_port,
        python=python,
        package=IMAGE_PACKAGE,
        modules=RUNTIME_MODULES,
        source_dir=SOURCE_DIR,
    )


def render_dockerignore() -> str:
    """The build context's filter: only the Dockerfile and the entrypoint's files are
    sent, whatever else a user keeps in the context directory."""
    lines = ["# Written by `llmpod image context` — do not edit by hand.", "*", "!Dockerfile"]
    lines += [f"!{SOURCE_DIR}/{module}" for module in RUNTIME_MODULES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # python -m llmpod.image.dockerfile > Dockerfile: the default render on stdout (the
    # committed images/vllm/Dockerfile). Writes nothing itself, so it runs from a wheel
    # too; `llmpod image context DIR` writes a whole build context.
    print(render_dockerfile(), end="")
