"""An exclusive, non-blocking lock on a directory, for commands that write into it.

render and promote both replace files or directories by rename inside one
parent directory; two of them at once could interleave their renames. flock on
the directory itself needs no lock file (nothing to leave behind after a kill):
the kernel releases it when the descriptor closes, also on SIGKILL.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from llmpod.errors import LlmpodError


@contextlib.contextmanager
def directory_locked(directory: Path, *, busy: LlmpodError) -> Iterator[None]:
    """Hold ``directory``'s lock for the block, or raise ``busy`` if another holds it."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        yield
    finally:
        os.close(fd)  # closing releases the lock
