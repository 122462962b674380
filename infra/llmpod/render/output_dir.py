"""Which directories `llmpod render --out` may replace, decided before anything is written.

A render replaces its output directory as a whole (stale files of a removed
service must not linger), so the directory it replaces must be one llmpod
wrote: it carries the marker file ``MARKER``, or it is empty, or it does not
exist yet. Issue 10 found ``--out .`` deleting a whole checkout, ``--out
stacks`` the stack files and ``--out README.md`` turning a file into a
directory; each of those is refused here with the reason, exit 1, and nothing
touched. The current directory, the project root (a directory holding
``Pulumi.yaml``), the stacks directory and every parent of them are refused even
when they carry a marker or are empty: replacing them would pull the ground
from under the shell and the project.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from llmpod.errors import LlmpodError, shorten

MARKER = ".llmpod-render"
MARKER_TEXT = (
    "Written by `llmpod render`. The next render replaces this whole directory;\n"
    "keep files of your own elsewhere.\n"
)
#: Files whose presence marks a directory as a project root, never an output.
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml", ".git", "pyproject.toml")


def _refuse(out: Path, why: str, fix: str) -> LlmpodError:
    return LlmpodError(
        code="unsafe_output_dir",
        message=f"Refusing to render into {shorten(str(out), 200)}: {why}. "
        f"Nothing was written or deleted.",
        suggestions=[fix],
    )


def _project_roots(start: Path) -> list[Path]:
    """``start`` and its parents that hold a ``Pulumi.yaml`` (the projects around it)."""
    found = []
    for directory in [start, *start.parents]:
        if any((directory / name).exists() for name in ("Pulumi.yaml", "Pulumi.yml")):
            found.append(directory)
    return found


def protected_dirs(stacks_dir: Path) -> dict[Path, str]:
    """Directories a render must never replace, with what each one is."""
    cwd = Path.cwd().resolve()
    stacks = stacks_dir.resolve()
    named = {cwd: "the current directory", stacks: "the stacks directory"}
    for root in _project_roots(cwd) + _project_roots(stacks):
        named.setdefault(root, "a project root (it holds Pulumi.yaml)")
    return named


def is_ours(directory: Path) -> bool:
    """Created by a render: holds the marker as a regular file, or is empty."""
    try:
        marker = os.lstat(directory / MARKER)
    except FileNotFoundError:
        return not any(directory.iterdir())
    return stat.S_ISREG(marker.st_mode)


def check_replaceable(out: Path) -> None:
    """``out`` (resolved) is absent, empty, or a directory a render wrote."""
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise _refuse(
            out, "it is a symbolic link", "pass the directory it points to, or a new directory"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise _refuse(
            out,
            "it is an existing file, not a directory",
            "pass a directory path (default: build/<stack>)",
        )
    if not is_ours(out):
        raise _refuse(
            out,
            f"it is a non-empty directory that llmpod did not create (no "
            f"{MARKER} marker), and a render replaces its whole content",
            "pass a new or empty directory, e.g. build/<stack>; or move the files "
            "you want to keep out of it and delete it",
        )


def check_output_dir(out: Path, stacks_dir: Path) -> Path:
    """The resolved directory to render into, or an LlmpodError saying why not."""
    if out.is_symlink():
        raise _refuse(
            out,
            "it is a symbolic link (a render would replace what it points to)",
            "pass the directory it points to, or a new directory",
        )
    target = out.resolve()
    for protected, what in sorted(protected_dirs(stacks_dir).items()):
        if target == protected:
            raise _refuse(out, f"it is {what}", "pass a subdirectory such as build/<stack>")
        if protected.is_relative_to(target):
            raise _refuse(
                out,
                f"it contains {what} ({protected})",
                "pass a subdirectory such as build/<stack>",
            )
    if target.is_dir() and any((target / name).exists() for name in PROJECT_FILES):
        raise _refuse(
            out,
            "it looks like a project (it holds "
            + ", ".join(n for n in PROJECT_FILES if (target / n).exists())
            + ")",
            "pass a subdirectory such as build/<stack>",
        )
    check_replaceable(target)
    return target
