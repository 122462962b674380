"""`llmpod image context DIR [STACK]`: the image's build context, and the command that
builds and pushes exactly the reference the stack renders."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from llmpod.cli.project_args import add_stacks_dir

COMMAND = (
    "image",
    "build the serving image yourself: `llmpod image context DIR [STACK]` writes the "
    "Dockerfile and entrypoint and prints the docker build/push commands",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="image_command", metavar="SUBCOMMAND")
    sub.required = True
    ctx = sub.add_parser(
        "context",
        help="write a Docker build context (Dockerfile, .dockerignore, llmpod_image/) to DIR",
        description="Write a complete Docker build context from this installed llmpod, "
        "for the vLLM version STACK's services run, and print the build and push commands "
        "tagged with the image reference STACK renders.",
    )
    ctx.add_argument(
        "directory",
        type=Path,
        help="new or empty directory, or one a previous `llmpod image context` wrote",
    )
    ctx.add_argument(
        "stack",
        nargs="?",
        default=None,
        help="stack whose image to build (dev, staging...; default: the spec's defaults)",
    )
    ctx.add_argument(
        "--service", default=None, help="the service whose image to build, when they differ"
    )
    ctx.add_argument(
        "--base-digest",
        default=None,
        metavar="SHA256",
        help="also pin the vllm/vllm-openai base image by this digest (sha256:...)",
    )
    add_stacks_dir(ctx)


def run(ns: argparse.Namespace) -> int:
    from llmpod.image.build_context import (
        DEFAULT_REPOSITORY,
        context_files,
        default_target,
        stack_target,
        write_context,
    )

    if ns.stack is None:
        target = default_target()
        source = "the spec's default image (no stack named)"
    else:
        from llmpod.environments.stack_files import load_stack, stack_file

        path = stack_file(ns.stack, ns.stacks_dir)
        print(f"stack: {path}", file=sys.stderr)
        target = stack_target(load_stack(ns.stack, ns.stacks_dir), ns.stack, ns.service)
        source = f"stack {ns.stack!r}, service(s) {', '.join(target.services)}"
    files = context_files(target, base_digest=ns.base_digest)
    replaced = write_context(ns.directory, files)
    modules = sum(1 for rel in files if "/" in rel)
    directory = shlex.quote(str(ns.directory))
    ref = target.tag_reference
    print(
        f"{'Rewrote' if replaced else 'Wrote'} the image build context for vLLM "
        f"{target.vllm_version} in {ns.directory}"
        f"{' (it held a previous context)' if replaced else ''}: Dockerfile, .dockerignore "
        f"and {modules} entrypoint files under llmpod_image/ ({source}).\n"
        f"Build and push the image the stack renders:\n"
        f"  docker build -t {ref} {directory}\n"
        f"  docker push {ref}"
    )
    if target.repository == DEFAULT_REPOSITORY:
        print(
            f"note: image.repository is the default, {DEFAULT_REPOSITORY}, where llmpod "
            f"publishes no image and you cannot push. Set image.repository in each service "
            f"to a registry you can push to (e.g. ghcr.io/<you>/llmpod-vllm), then run "
            f"this command again for the tag that stack renders.",
            file=sys.stderr,
        )
    if target.digest:
        print(
            f"note: the stack pins image.digest {target.digest}; a new build has another "
            f"digest. After the push, set image.digest to the one `docker buildx imagetools "
            f"inspect {ref}` prints.",
            file=sys.stderr,
        )
    else:
        print(
            f"Then pin it (production requires a digest): `docker buildx imagetools inspect "
            f"{ref}` prints the digest; set it as image.digest in staging and promote it."
        )
    return 0
