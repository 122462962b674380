"""Write a set of files as a directory, atomically: all of them or none.

The files go to a sibling staging directory ``.<name>.llmpod-new`` (the
marker first, so even a half-written one is recognisably ours). Then:

* no output yet: one rename puts the staging directory in place;
* an output exists: ``renameat2(RENAME_EXCHANGE)`` swaps the two in one step
  (Linux ≥ 3.15, ext4/xfs/btrfs/tmpfs), so at every instant the output path
  holds the complete old tree or the complete new one; the old tree, now under
  the staging name, is deleted;
* where the exchange is unsupported: rename the old tree to
  ``.<name>.llmpod-old``, rename the new one into place, delete the old one.
  A SIGKILL between those two renames leaves no output directory, but the
  old tree under its backup name: the next render (or any later call of
  ``write_tree``) first runs ``recover``, which puts it back.

``recover`` also removes a staging directory left by a killed render, and a
backup whose replacement did land. It only deletes directories that carry the
marker or are empty; anything else under those names is reported, not touched.
A lock on the parent directory (``flock``) keeps two renders into the same
place from using the same staging names at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from llmpod.dir_lock import directory_locked
from llmpod.errors import LlmpodError
from llmpod.render.output_dir import MARKER, MARKER_TEXT, check_replaceable, is_ours

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h


def staging_path(out: Path) -> Path:
    return out.parent / f".{out.name}.llmpod-new"


def backup_path(out: Path) -> Path:
    return out.parent / f".{out.name}.llmpod-old"


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the kernel or file system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # glibc < 2.28, or not glibc
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _locked(directory: Path) -> contextlib.AbstractContextManager[None]:
    return directory_locked(
        directory,
        busy=LlmpodError(
            code="output_dir_busy",
            message=f"Another llmpod render is writing into {directory} "
            f"right now. Nothing was written.",
            suggestions=["wait for it to finish, then run this render again"],
        ),
    )


def _not_ours(path: Path) -> LlmpodError:
    return LlmpodError(
        code="unsafe_output_dir",
        message=f"{path} is in the way of the render's staging names but was not made "
        f"by llmpod (no {MARKER} marker); it was left alone and nothing was "
        f"written.",
        suggestions=[f"move {path} somewhere else"],
    )


def _rmtree_ours(path: Path) -> None:
    """Delete a tree a render wrote, read-only folders in it included (its files are
    ours: a user who made a subfolder read-only must not block every later render)."""

    def writable_then_retry(func: Callable[..., object], target: str, _exc: object) -> None:
        parent = os.path.dirname(target)
        for folder in (parent, target):
            with contextlib.suppress(OSError):
                os.chmod(folder, 0o700)
        func(target)

    # onerror (3.11's spelling; 3.12 adds onexc with the same call shape here).
    shutil.rmtree(path, onerror=writable_then_retry)


def _remove_ours(path: Path) -> None:
    if not is_ours(path):
        raise _not_ours(path)
    _rmtree_ours(path)


def recover(out: Path) -> list[str]:
    """Finish or undo a swap that a killed render left half-done; say what was done.
    Only directories carrying the render marker are touched."""
    done = []
    backup, staging = backup_path(out), staging_path(out)
    if backup.is_dir() and not backup.is_symlink():
        if not is_ours(backup):
            raise _not_ours(backup)  # a user's own .OUT.llmpod-old: never moved into OUT
        if os.path.lexists(out):
            _remove_ours(backup)
            done.append(f"removed {backup.name} (the previous output, already replaced)")
        else:
            os.rename(backup, out)
            done.append(
                f"restored {out.name} from {backup.name} (a render was killed "
                f"between its two renames)"
            )
    if staging.is_dir() and not staging.is_symlink():
        _remove_ours(staging)
        done.append(f"removed {staging.name} (left by an interrupted render)")
    return done


def _drop_old_tree(old: Path, notes: list[str]) -> None:
    """After the new tree is in place the render has landed: failing to delete the old
    one is reported as a note, never as a failed render (the next render retries)."""
    try:
        _rmtree_ours(old)
    except OSError as exc:
        notes.append(
            f"the new output is in place, but the previous one could not be fully removed "
            f"from {old} ({exc.strerror or exc}); the next render retries, or remove it by hand"
        )


def _stage(staging: Path, files: dict[str, str]) -> None:
    staging.mkdir(mode=0o755)
    (staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    root = staging.resolve()
    for rel, content in sorted(files.items()):
        path = staging / rel
        # File names come from resource names; never let one climb out of the tree.
        if not path.resolve().is_relative_to(root) or rel.endswith("/") or MARKER in rel:
            raise ValueError(f"refusing to write {rel!r} outside the output tree")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def write_tree(
    out: Path,
    files: dict[str, str],
    *,
    checkpoint: Callable[[str], None] = lambda step: None,
    exchange: bool = True,
) -> list[str]:
    """Replace ``out`` with exactly ``files`` (plus the marker); returns recovery notes.

    ``checkpoint(step)`` runs after each step ("staged", "exchanged", "old-moved",
    "new-in-place"), so tests can kill the process exactly there; ``exchange=False``
    forces the two-rename path that file systems without RENAME_EXCHANGE take.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging, backup = staging_path(out), backup_path(out)
    with _locked(out.parent):
        notes = recover(out)
        check_replaceable(out)  # again, under the lock: the directory may have changed
        landed = False
        try:
            _stage(staging, files)
            checkpoint("staged")
            if not os.path.lexists(out):
                os.rename(staging, out)
            elif exchange and _exchange(staging, out):
                checkpoint("exchanged")
                landed = True
                _drop_old_tree(staging, notes)  # the old tree, now under the staging name
            else:
                os.rename(out, backup)
                checkpoint("old-moved")
                os.rename(staging, out)
                checkpoint("new-in-place")
                landed = True
                _drop_old_tree(backup, notes)
        except BaseException:
            if not landed:
                recover(out)  # put the old tree back and drop the staging directory
            raise
    return notes
