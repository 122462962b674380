"""Stack files on disk: ``<stackConfigDir>/Pulumi.<stack>.yaml`` → ``StackSpec``.

The reading half of the stack spec (infra/llmpod/spec/stack.py holds the data
type): finding a stack's file in the current project, reading it through the one
bounded YAML reader, and picking one service out of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmpod.errors import LlmpodError, hint
from llmpod.project import stacks_dir as project_stacks_dir
from llmpod.spec.service import ServingSpec
from llmpod.spec.stack import StackSpec
from llmpod.yamlio.reader import load_yaml, read_limited


def stack_file(stack: str, stacks_dir: Path | None = None) -> Path:
    """``stacks_dir``/Pulumi.<stack>.yaml; by default the current project's
    stackConfigDir (infra/llmpod/project.py), never the directory llmpod is installed in."""
    directory = project_stacks_dir(stacks_dir)
    path = directory / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(
            p.name.removeprefix("Pulumi.").removesuffix(".yaml")
            for p in directory.glob("Pulumi.*.yaml")
        )
        raise LlmpodError(
            code="unknown_stack",
            message=f"No stack {stack!r}: {path} does not exist.{hint(stack, known)}",
            suggestions=[f"use one of {', '.join(known) or '(none found)'}"],
        )
    return path


def read_stack_config(path: Path) -> dict[str, Any]:
    doc = load_yaml(read_limited(path), path)
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise LlmpodError(
            code="stack_yaml_invalid",
            message=f"{path} must be a mapping with a 'config:' mapping.",
            suggestions=["see `llmpod init` for the layout of a stack file"],
        )
    return dict(doc.get("config") or {})


def load_stack(stack: str, stacks_dir: Path | None = None) -> StackSpec:
    path = stack_file(stack, stacks_dir)
    return StackSpec.from_config(read_stack_config(path), where=str(path))


def load_service(stack: str, service: str) -> tuple[StackSpec, ServingSpec]:
    """A stack and one of its services, or a clear error naming the services it has."""
    loaded = load_stack(stack)
    names = [s.name for s in loaded.services]
    spec = next((s for s in loaded.services if s.name == service), None)
    if spec is None:
        raise LlmpodError(
            code="unknown_service",
            message=f"stack {stack!r} has no service {service[:80]!r}.{hint(service, names)}",
            suggestions=[f"use one of {', '.join(sorted(names))}"],
        )
    return loaded, spec
