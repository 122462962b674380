"""Replace a hand-edited file atomically without overriding what its owner decided.

`llmpod promote` rewrites a stack file that people edit and protect:

* a read-only file (``chmod 0444``, often how production is guarded against
  edits) is refused, not replaced: ``os.replace`` only needs the directory to
  be writable, so without this check the protection would be silently lost
  (and as root, ``os.access`` says yes to everything, so the mode bits decide);
* a symlinked stack file (stacks shared between checkouts) is written through:
  the new file is created next to the link's final target and renamed over
  it, so the link stays a link and the write stays atomic;
* the target's mode and, where permitted, owner are kept;
* the temporary file is ``.<name>.llmpod-promote-XXXX.tmp`` in the target's
  directory (same file system, so the rename is atomic). It is removed on any
  failure Python sees; one left by a SIGKILL is removed by the next write and
  reported. A lock on the directory keeps two promotions from interleaving.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from llmpod.dir_lock import directory_locked
from llmpod.errors import LlmpodError

TEMP_INFIX = ".llmpod-promote-"


def _refuse(path: Path, why: str, fix: str) -> LlmpodError:
    return LlmpodError(
        code="target_not_writable",
        message=f"Cannot write {path}: {why}. Nothing was written.",
        suggestions=[fix],
    )


def real_target(path: Path) -> Path:
    """The regular file a write to ``path`` must replace (through symlinks), or refuse."""
    real = Path(os.path.realpath(path))
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise _refuse(
            path, f"it is a symbolic link to {real}, which does not exist", "fix or remove the link"
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, "it is not a regular file", "point the stack at a regular file")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o222 == 0 or not os.access(real, os.W_OK):
        shown = f" (through the link {path})" if real != path.absolute() else ""
        raise _refuse(
            real,
            f"it is read-only (mode {mode:04o}){shown}; a promotion does not override that",
            f"make it writable deliberately (chmod u+w {real}) and run the promotion again",
        )
    return real


def stale_temp_files(real: Path) -> list[Path]:
    return sorted(real.parent.glob(f".{real.name}{TEMP_INFIX}*.tmp"))


def _locked(directory: Path) -> contextlib.AbstractContextManager[None]:
    return directory_locked(
        directory,
        busy=LlmpodError(
            code="target_busy",
            message=f"Another llmpod promotion is writing in {directory}. Nothing was written.",
            suggestions=["wait for it to finish and run this one again"],
        ),
    )


def replace_file(
    path: Path,
    new: bytes,
    *,
    still_current: Callable[[Path], None],
    checkpoint: Callable[[str], None] = lambda step: None,
) -> list[str]:
    """Atomically replace the file behind ``path`` with ``new``; returns notes to print.

    ``still_current(real)`` runs right before the rename and raises if the
    target changed since it was read. ``checkpoint(step)`` ("synced") lets
    tests kill the process at the point where a temporary file exists.
    """
    real = real_target(path)
    notes = []
    with _locked(real.parent):
        for stale in stale_temp_files(real):
            stale.unlink(missing_ok=True)
            notes.append(f"removed {stale.name}, left by an interrupted promotion")
        st = os.stat(real)
        try:
            fd, tmp_name = tempfile.mkstemp(
                dir=real.parent, prefix=f".{real.name}{TEMP_INFIX}", suffix=".tmp"
            )
        except PermissionError:
            raise _refuse(
                real,
                f"its directory {real.parent} is not writable (the new "
                f"content is written next to it, then renamed over it)",
                f"make {real.parent} writable for this user",
            ) from None
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(new)
                fh.flush()
                os.fchmod(fh.fileno(), stat.S_IMODE(st.st_mode))
                with contextlib.suppress(PermissionError):  # only root may give files away
                    os.fchown(fh.fileno(), st.st_uid, st.st_gid)
                os.fsync(fh.fileno())
            checkpoint("synced")
            still_current(real)
            os.replace(tmp, real)
        finally:
            tmp.unlink(missing_ok=True)  # gone already after a successful replace
    _fsync_dir(real.parent)
    return notes


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
