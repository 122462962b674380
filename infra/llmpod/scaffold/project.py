"""The files `llmpod init DIR` writes into a user's own repository.

They live in ``files/`` as package data; ``github/`` is written as ``.github/``
(a dot directory would be skipped by package-data globs). ``@PROJECT_NAME@``
and ``@LLMPOD_VERSION@`` are filled in, and ``.llmpod/requirements.txt`` says how
CI installs the llmpod that scaffolded the project (install.py). Existing files are
never overwritten or deleted: init writes all of its files or none.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from llmpod.errors import LlmpodError
from llmpod.scaffold.install import INSTALL_DIR, REQUIREMENTS, InstallSource, requirements_text

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


def scaffold_files(name: str, version: str, install: InstallSource) -> dict[str, str | bytes]:
    """Relative path in the new project → content."""
    out: dict[str, str | bytes] = {}
    for path in sorted(FILES_DIR.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(FILES_DIR).as_posix()
        if rel.startswith("github/"):
            rel = "." + rel
        text = path.read_text(encoding="utf-8")
        out[rel] = text.replace("@PROJECT_NAME@", name).replace("@LLMPOD_VERSION@", version)
    out[REQUIREMENTS] = requirements_text(install)
    if install.wheel is not None:
        out[f"{INSTALL_DIR}/{install.wheel.name}"] = install.wheel.read_bytes()
    if "Pulumi.yaml" not in out:
        raise LlmpodError(
            code="broken_install",
            message=f"llmpod's project files are missing from {FILES_DIR}.",
            suggestions=[
                "reinstall llmpod from its wheel or git URL (README: In your own repository)"
            ],
        )
    return out


def _in_the_way(directory: Path, rel: str) -> str | None:
    """Why ``rel`` cannot be created under ``directory`` (None when it can): the file
    exists (a dangling symlink counts), or a folder on its way is a file or a link."""
    parts = Path(rel).parts
    try:
        for depth in range(1, len(parts)):
            parent = directory.joinpath(*parts[:depth])
            if parent.is_symlink() or (os.path.lexists(parent) and not parent.is_dir()):
                return f"{Path(*parts[:depth]).as_posix()} is not a folder"
        if os.path.lexists(directory / rel):
            return f"{rel} exists"
    except OSError as exc:  # a symlink loop, a folder we may not list
        return f"{rel} cannot be checked ({exc.strerror or exc})"
    return None


def write_project(directory: Path, files: dict[str, str | bytes]) -> list[Path]:
    """Write every file, or none: everything in the way is listed before anything is
    written, and a write that fails anyway (a read-only folder, a full disk) undoes
    the files and folders this call created."""
    if directory.exists() and not directory.is_dir():
        raise LlmpodError(
            code="bad_argument",
            message=f"{directory} exists and is not a directory.",
            suggestions=["pass a new or existing directory"],
        )
    in_the_way = sorted(filter(None, (_in_the_way(directory, rel) for rel in files)))
    if in_the_way:
        raise LlmpodError(
            code="init_would_overwrite",
            message=f"Refusing to initialise {directory}: {len(in_the_way)} path(s) are in "
            f"the way: {'; '.join(in_the_way)}. Nothing was written.",
            suggestions=["move or remove those files, or run `llmpod init` in another directory"],
        )
    written: list[Path] = []
    created_dirs: list[Path] = []
    try:
        for rel, content in files.items():
            target = directory / rel
            missing = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
            for folder in reversed(missing):
                folder.mkdir()
                created_dirs.append(folder)
            # "x": fail rather than overwrite if the file appeared since the check.
            with open(target, "xb") as handle:
                written.append(target)
                handle.write(content.encode() if isinstance(content, str) else content)
    except OSError as exc:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        for folder in reversed(created_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise LlmpodError(
            code="init_write_failed",
            message=f"Could not write {exc.filename or directory}: {exc.strerror or exc}. "
            f"Nothing was written (the {len(written)} file(s) begun were removed).",
            suggestions=["make the directory writable, or run `llmpod init` elsewhere"],
        ) from None
    return written
