"""The files `llmpod init DIR` writes into a user's own repository.

They live in ``files/`` as package data; ``github/`` is written as ``.github/``
(a dot directory would be skipped by package-data globs). ``@PROJECT_NAME@``
and ``@LLMPOD_VERSION@`` are filled in, so CI installs the llmpod that
scaffolded the project. Existing files are never overwritten or deleted: init
writes all of its files or none.
"""

from __future__ import annotations

import re
from pathlib import Path

from llmpod.errors import LlmpodError

FILES_DIR = Path(__file__).resolve().parent / "files"
#: Pulumi's rule for project names.
_PROJECT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def project_name(directory: Path, explicit: str | None = None) -> str:
    if explicit is not None:
        if not _PROJECT_NAME.fullmatch(explicit):
            raise LlmpodError(
                code="bad_argument",
                message=f"--name {explicit[:100]!r} is not a Pulumi project name (letters, "
                f"digits, '_', '.', '-'; at most 100 characters).",
                suggestions=[f"e.g. --name {re.sub(r'[^A-Za-z0-9_.-]+', '-', explicit)[:100]}"],
            )
        return explicit
    derived = re.sub(r"[^A-Za-z0-9_.-]+", "-", directory.resolve().name).strip("-.")[:100]
    return derived or "llmpod-project"


def scaffold_files(name: str, version: str) -> dict[str, str]:
    """Relative path in the new project → content."""
    out: dict[str, str] = {}
    for path in sorted(FILES_DIR.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(FILES_DIR).as_posix()
        if rel.startswith("github/"):
            rel = "." + rel
        text = path.read_text(encoding="utf-8")
        out[rel] = text.replace("@PROJECT_NAME@", name).replace("@LLMPOD_VERSION@", version)
    if "Pulumi.yaml" not in out:
        raise LlmpodError(
            code="broken_install",
            message=f"llmpod's project files are missing from {FILES_DIR}.",
            suggestions=["reinstall: python -m pip install --force-reinstall llmpod"],
        )
    return out


def write_project(directory: Path, files: dict[str, str]) -> list[Path]:
    """Write every file, or none when any exists already (listed in the error)."""
    if directory.exists() and not directory.is_dir():
        raise LlmpodError(
            code="bad_argument",
            message=f"{directory} exists and is not a directory.",
            suggestions=["pass a new or existing directory"],
        )
    existing = sorted(rel for rel in files if (directory / rel).exists())
    if existing:
        raise LlmpodError(
            code="init_would_overwrite",
            message=f"Refusing to initialise {directory}: {len(existing)} file(s) exist "
            f"already: {', '.join(existing)}. Nothing was written.",
            suggestions=["move or remove those files, or run `llmpod init` in another directory"],
        )
    written = []
    for rel, text in files.items():
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        # "x": fail rather than overwrite if the file appeared since the check.
        with open(target, "x", encoding="utf-8") as handle:
            handle.write(text)
        written.append(target)
    return written
