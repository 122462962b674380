"""`llmpod image context DIR`: a complete Docker build context from the installed llmpod.

The context is the rendered Dockerfile, a .dockerignore and the entrypoint package
(``llmpod_image/``, the runtime modules read from this installed package with
importlib.resources), so a user with only the wheel can build the image; no
checkout is involved. The tag to build is the one the stack renders
(``Image.reference`` without the digest, which only exists once the image is
pushed): one source of truth for repository, ``v``-prefixed tag and digest.

Not part of the image: this module imports llmpod freely (it runs on the user's
machine, not in the container).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from llmpod.errors import LlmpodError, hint, shorten
from llmpod.image.dockerfile import render_dockerfile, render_dockerignore
from llmpod.image.runtime_files import IMAGE_PACKAGE, RUNTIME_MODULES
from llmpod.spec.service import Image, ServingSpec
from llmpod.spec.stack import StackSpec

#: Marks a directory as a context this command wrote: it may be written again.
MARKER = ".llmpod-image-context"
_MARKER_TEXT = (
    "Written by `llmpod image context`. The next run rewrites the files listed\n"
    "below; other files are left alone (and kept out of the build by .dockerignore).\n"
)
#: image.repository's default: a name llmpod publishes nothing under.
DEFAULT_REPOSITORY: str = Image.model_fields["repository"].default


@dataclass(frozen=True)
class ImageTarget:
    """One image a stack renders, and the services that run it."""

    repository: str
    vllm_version: str
    digest: str | None
    services: tuple[str, ...]

    @property
    def tag_reference(self) -> str:
        """What `docker build -t` gets: the stack's reference without its digest."""
        return Image(repository=self.repository, vllm_version=self.vllm_version).reference


def default_target() -> ImageTarget:
    image = Image()
    return ImageTarget(image.repository, image.vllm_version, image.digest, ())


def stack_target(spec: StackSpec, stack: str, service: str | None) -> ImageTarget:
    """The image ``stack`` renders for ``service`` (or for every service, when they all
    run the same one)."""
    services: list[ServingSpec] = spec.services
    if service is not None:
        names = [s.name for s in services]
        services = [s for s in services if s.name == service]
        if not services:
            raise LlmpodError(
                code="unknown_service",
                message=f"stack {stack!r} has no service {shorten(service)}.{hint(service, names)}",
                suggestions=[f"use one of {', '.join(sorted(names))}"],
            )
    groups: dict[tuple[str, str, str | None], list[str]] = {}
    for s in services:
        key = (s.image.repository, s.image.vllm_version, s.image.digest)
        groups.setdefault(key, []).append(s.name)
    if len(groups) > 1:
        listed = "; ".join(
            f"{', '.join(names)}: {Image(repository=r, vllm_version=v, digest=d).reference}"
            for (r, v, d), names in sorted(groups.items(), key=lambda kv: kv[1])
        )
        raise LlmpodError(
            code="bad_argument",
            message=f"stack {stack!r} runs more than one image ({listed}); a build context "
            f"holds one.",
            suggestions=["pass --service NAME, once per image, with a directory for each"],
        )
    [((repository, version, digest), names)] = groups.items()
    return ImageTarget(repository, version, digest, tuple(names))


def context_files(target: ImageTarget, *, base_digest: str | None = None) -> dict[str, bytes]:
    """Relative path in the context → content."""
    files = {
        "Dockerfile": render_dockerfile(target.vllm_version, digest=base_digest).encode(),
        ".dockerignore": render_dockerignore().encode(),
    }
    package = resources.files("llmpod.image.runtime")
    for name in RUNTIME_MODULES:
        source = package.joinpath(name)
        if not source.is_file():
            raise LlmpodError(
                code="broken_install",
                message=f"llmpod's entrypoint module {name} is missing from {package}.",
                suggestions=["reinstall llmpod from its wheel"],
            )
        files[f"{IMAGE_PACKAGE}/{name}"] = source.read_bytes()
    return files


def _refuse(directory: Path, why: str, fix: str) -> LlmpodError:
    return LlmpodError(
        code="unsafe_output_dir",
        message=f"Refusing to write an image context into {shorten(str(directory), 200)}: "
        f"{why}. Nothing was written.",
        suggestions=[fix],
    )


def previous_files(directory: Path) -> list[str] | None:
    """The files a previous run listed in its marker, or None for an empty or absent
    directory; raises when ``directory`` is anything else."""
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise _refuse(
            directory,
            "it is a symbolic link" if stat.S_ISLNK(st.st_mode) else "it is a file",
            "pass a new or empty directory, e.g. build/image",
        )
    try:
        marker = os.lstat(directory / MARKER)
    except FileNotFoundError:
        if any(directory.iterdir()):
            raise _refuse(
                directory,
                f"it is a non-empty directory that is not a previous image context (no "
                f"{MARKER} file), and its files would be sent to the Docker build",
                "pass a new or empty directory, e.g. build/image",
            ) from None
        return None
    if not stat.S_ISREG(marker.st_mode):
        raise _refuse(directory, f"its {MARKER} is not a file", "pass a new or empty directory")
    if (directory / IMAGE_PACKAGE).is_symlink():
        # Writing through it would put files wherever it points.
        raise _refuse(
            directory, f"its {IMAGE_PACKAGE} is a symbolic link", "pass a new or empty directory"
        )
    text = (directory / MARKER).read_text(encoding="utf-8", errors="replace")
    return [ln for ln in text.splitlines()[2:] if ln]


def write_context(directory: Path, files: dict[str, bytes]) -> bool:
    """Write the context; True when it replaced a previous one. Files a previous run
    wrote that this one does not (a module since removed) are deleted; nothing else is."""
    previous = previous_files(directory)
    ours = set(files) | {MARKER}
    for rel in previous or []:
        # Only names this command could have written: a marker edited to list
        # ../elsewhere must not make us delete it.
        parts = Path(rel).parts
        if rel in ours or not (
            rel in ("Dockerfile", ".dockerignore")
            or (len(parts) == 2 and parts[0] == IMAGE_PACKAGE and rel.endswith(".py"))
        ):
            continue
        (directory / rel).unlink(missing_ok=True)
    (directory / IMAGE_PACKAGE).mkdir(parents=True, exist_ok=True)
    listing = _MARKER_TEXT + "\n" + "".join(f"{rel}\n" for rel in sorted(files))
    for rel, data in [*sorted(files.items()), (MARKER, listing.encode())]:
        target = directory / rel
        tmp = target.with_name(f".{target.name}.llmpod-tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return previous is not None
