"""The ready-file: exists exactly while the entrypoint reports ready (for exec probes).

Stdlib only (copied into the image). Some platforms (and `test -f` exec probes)
prefer a file to an HTTP call; it mirrors ``/ready``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_ready_file(path: Path, summary: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(summary, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # atomic: an exec probe never sees a half-written file


def remove_ready_file(path: Path) -> None:
    path.unlink(missing_ok=True)
