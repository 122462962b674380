"""Naming stacks on the command line: a stack name, or a path to a stack file.

A path lets CI compare a pull request's stack file with the base branch's
copy (`llmpod diff base/Pulumi.staging.yaml staging`) without a checkout of
both trees.
"""

from __future__ import annotations

from pathlib import Path

from llmpod.environments.stack_files import stack_file
from llmpod.environments.stack_yaml import StackText, plain
from llmpod.errors import LlmpodError
from llmpod.spec.stack import StackSpec


def is_path(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref


def resolve_stack(ref: str, stacks_dir: Path | None = None) -> Path:
    """The file behind ``ref``; unknown names raise with the known stacks listed."""
    if not is_path(ref):
        return stack_file(ref, stacks_dir)
    path = Path(ref)
    if not path.is_file():
        raise LlmpodError(
            code="unknown_stack",
            message=f"No stack file {ref!r}: {path} does not exist.",
            suggestions=[
                "pass a stack name (dev, staging, production) or the "
                "path of an existing Pulumi.<stack>.yaml"
            ],
        )
    return path


def load_spec(text: StackText, role: str) -> StackSpec:
    """Validate a parsed stack file; the error names the file and its role."""
    return StackSpec.from_config(plain(text.config), where=f"{role} {text.path}")


def label_of(ref: str) -> str:
    """Column heading for a stack: its name, or the file name for a path."""
    return Path(ref).name.removeprefix("Pulumi.").removesuffix(".yaml") if is_path(ref) else ref
