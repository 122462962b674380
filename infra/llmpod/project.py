"""Which project a command works on: the nearest Pulumi.yaml, as Pulumi finds it.

Pulumi looks for ``Pulumi.yaml`` (or ``Pulumi.yml``) in the working directory and
then in each parent, and reads stack files from the project's ``stackConfigDir``
(relative to the project file; the project directory when unset). llmpod does
the same, so `llmpod render staging` and `pulumi preview -s staging` read the
same file. The directory llmpod is installed in plays no part: a second clone,
or a user's own repository, is its own project.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from llmpod.errors import LlmpodError

PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")


@dataclass(frozen=True)
class Project:
    file: Path
    """The Pulumi.yaml that was found (absolute)."""
    name: str
    stacks_dir: Path
    """Where Pulumi.<stack>.yaml files live (absolute)."""
    main: str = "."
    """The program directory (``main:``), relative to the root."""

    @property
    def root(self) -> Path:
        return self.file.parent

    def path_for_plugins(self, path: str) -> str:
        """A project-relative ``path`` as Pulumi's plugins must be given it.

        Pulumi starts the program and its resource plugins in the program directory
        (``main:``), not the project root, so the Kubernetes provider resolved the dev
        stack's ``renderDir: build/dev-rendered`` to ``infra/build/dev-rendered``
        (seen with CLI v3.276.0 and provider 4.25.0). Rewritten relative to ``main``,
        the value stays the same on every machine (no churn in previews).
        """
        if Path(path).is_absolute():
            return path
        return os.path.relpath(self.root / path, self.root / self.main)


def _project_file(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        for name in PROJECT_FILES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def _path_setting(doc: dict[str, object], path: Path, key: str, fix: str) -> str:
    """A path-valued key of Pulumi.yaml (relative to the project; "." when unset)."""
    value = doc.get(key) or "."
    if not isinstance(value, str):
        raise LlmpodError(
            code="project_yaml_invalid",
            message=f"{path}: {key} must be a path, not {str(value)[:60]!r}.",
            suggestions=[fix],
        )
    return value


def _read_project(path: Path) -> Project:
    from llmpod.yamlio.reader import load_yaml  # the one YAML reader, limits included

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LlmpodError(
            code="project_yaml_invalid",
            message=f"{path} cannot be read: {exc.strerror}.",
            suggestions=[f"check the permissions of {path}"],
        ) from None
    doc = load_yaml(raw, path)
    if not isinstance(doc, dict):
        raise LlmpodError(
            code="project_yaml_invalid",
            message=f"{path} must be a mapping (name:, runtime:, ...).",
            suggestions=["see `llmpod init` for a working Pulumi.yaml"],
        )
    config_dir = _path_setting(doc, path, "stackConfigDir", "set stackConfigDir: stacks")
    main = _path_setting(
        doc, path, "main", "set main: to the directory that holds __main__.py, e.g. main: infra/"
    )
    name = doc.get("name")
    return Project(
        file=path,
        name=str(name) if name else path.parent.name,
        stacks_dir=(path.parent / config_dir).resolve(),
        main=main,
    )


def find_project(start: Path | None = None) -> Project:
    """The project at or above ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    found = _project_file(here)
    if found is None:
        raise LlmpodError(
            code="no_project",
            message=f"No Pulumi.yaml in {here} or any directory above it, so there are no "
            f"stacks to read.",
            suggestions=[
                "run `llmpod init .` to start a project here",
                "run from inside a project, or pass -C DIR (the directory holding Pulumi.yaml)",
                "or name a stack file directly with --stacks-dir DIR",
            ],
        )
    return _read_project(found)


def stacks_dir(explicit: Path | None = None) -> Path:
    """``--stacks-dir`` when given, else the current project's stackConfigDir."""
    return explicit if explicit is not None else find_project().stacks_dir
