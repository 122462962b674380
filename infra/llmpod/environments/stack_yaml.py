"""Stack files as round-trip YAML: read with comments, write back atomically.

`llmpod promote` edits a file people also edit by hand and review in PRs, so
it must keep comments and key order (ruamel.yaml round-trip mode) and must
never leave a half-written file behind: the new text goes to a temporary
file in the same directory, is fsync'ed, and replaces the target with
``os.replace`` (atomic on POSIX within one file system) — but only if the
target still holds the bytes the promotion was computed from.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmpod.environments.safe_write import replace_file
from llmpod.errors import LlmpodError
from llmpod.yamlio.reader import load_yaml, read_limited


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    # The stack files indent lists under their key ("  llmpod:services:\n    - name:");
    # these settings reproduce that layout so untouched lines stay byte-identical.
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never re-wrap long comments or strings
    return yaml


@dataclass(frozen=True)
class StackText:
    """A stack file as read: its path, exact bytes and round-trip document."""

    path: Path
    raw: bytes
    doc: Any

    @property
    def sha256(self) -> str:
        return sha256(self.raw)

    @property
    def config(self) -> Any:
        return self.doc["config"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_stack_text(raw: bytes, path: Path) -> StackText:
    """Parse stack-file bytes; YAML errors become one readable LlmpodError."""
    # The same limits as every other reader (alias bombs hung promote and diff).
    doc = load_yaml(raw, path, round_trip=True, yaml=_yaml(), note="; nothing was written")
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        raise LlmpodError(
            code="stack_yaml_invalid",
            message=f"{path} must be a mapping with a 'config:' mapping.",
            suggestions=["see stacks/Pulumi.staging.yaml for the layout"],
        )
    return StackText(path=path, raw=raw, doc=doc)


def read_stack_text(path: Path) -> StackText:
    return parse_stack_text(read_limited(path), path)


def dump_doc(doc: Any) -> bytes:
    buf = io.StringIO()
    _yaml().dump(doc, buf)
    return buf.getvalue().encode("utf-8")


def plain(value: Any) -> Any:
    """ruamel's commented containers → plain dicts/lists (for validation and JSON)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def write_if_unchanged(
    path: Path,
    new: bytes,
    expected_sha256: str,
    *,
    checkpoint: Callable[[str], None] = lambda step: None,
) -> list[str]:
    """Atomically replace ``path`` with ``new`` if it still hashes to ``expected_sha256``.

    The check runs after the temporary file is complete, right before the
    rename, so the window in which a concurrent edit could be lost is as small
    as a file system allows (an editor saving in that instant still wins the
    race; everything slower is caught). Permissions, symlinks and temporary
    files are handled by ``safe_write.replace_file``; returns its notes.
    """

    def still_current(real: Path) -> None:
        current = sha256(real.read_bytes())
        if current != expected_sha256:
            raise LlmpodError(
                code="target_changed",
                message=(
                    f"{path} changed while the promotion was being prepared (sha256 "
                    f"{expected_sha256[:12]} when read, {current[:12]} now); nothing was "
                    f"written."
                ),
                suggestions=["run the promotion again so its diff covers the new content"],
            )

    return replace_file(path, new, still_current=still_current, checkpoint=checkpoint)
