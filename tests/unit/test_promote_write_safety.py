"""promote's write: read-only targets refused, symlinks written through, no temp file left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from promote_fixtures import write_stacks

from llmpod.cli.main import main
from llmpod.environments.safe_write import TEMP_INFIX
from llmpod.environments.stack_yaml import sha256, write_if_unchanged
from llmpod.errors import LlmpodError

ROOT = Path(__file__).resolve().parents[2]


def test_a_read_only_target_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.production.yaml"
    path.write_bytes(b"old\n")
    path.chmod(0o444)
    with pytest.raises(LlmpodError, match=r"it is read-only \(mode 0444\).*chmod u\+w"):
        write_if_unchanged(path, b"new\n", sha256(b"old\n"))
    assert path.read_bytes() == b"old\n"
    assert path.stat().st_mode & 0o777 == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.production.yaml"]


def test_promote_refuses_a_read_only_target_before_asking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = write_stacks(tmp_path)  # staging's 16k context is not yet in production
    target = stacks / "Pulumi.production.yaml"
    before = target.read_bytes()
    target.chmod(0o444)
    rc = main(["promote", "staging", "production", "--stacks-dir", str(stacks), "--yes"])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "is read-only (mode 0444)" in err and "Traceback" not in err
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Pulumi.production.yaml",
        "Pulumi.staging.yaml",
    ]


def test_a_symlinked_target_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    real = shared / "Pulumi.staging.yaml"
    real.write_bytes(b"old\n")
    real.chmod(0o640)
    link = tmp_path / "Pulumi.staging.yaml"
    link.symlink_to(real)
    write_if_unchanged(link, b"new\n", sha256(b"old\n"))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new\n"
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in shared.iterdir()) == ["Pulumi.staging.yaml"]


def test_a_dangling_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "Pulumi.staging.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    with pytest.raises(LlmpodError, match=r"symbolic link to .*gone.yaml, which does not exist"):
        write_if_unchanged(link, b"new\n", sha256(b"old\n"))
    assert link.is_symlink() and not (tmp_path / "gone.yaml").exists()


def test_a_symlink_to_a_read_only_file_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_bytes(b"old\n")
    real.chmod(0o400)
    link = tmp_path / "Pulumi.production.yaml"
    link.symlink_to(real)
    with pytest.raises(LlmpodError, match=r"read-only \(mode 0400\) \(through the link"):
        write_if_unchanged(link, b"new\n", sha256(b"old\n"))
    assert real.read_bytes() == b"old\n"


def test_a_failure_before_the_rename_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_bytes(b"old\n")

    def boom(step: str) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_if_unchanged(path, b"new\n", sha256(b"old\n"), checkpoint=boom)
    assert path.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.x.yaml"]


_KILLER = """
import os, signal, sys
from pathlib import Path
from llmpod.environments.stack_yaml import sha256, write_if_unchanged

def checkpoint(step):
    os.kill(os.getpid(), signal.SIGKILL)

write_if_unchanged(Path(sys.argv[1]), b"new\\n", sha256(b"old\\n"), checkpoint=checkpoint)
"""


def test_a_temp_file_left_by_sigkill_is_removed_and_reported_next_time(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_bytes(b"old\n")
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, str(path)],
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert path.read_bytes() == b"old\n"  # killed after fsync, before the rename
    left = [p.name for p in tmp_path.iterdir() if TEMP_INFIX in p.name]
    assert len(left) == 1 and left[0].startswith(".Pulumi.x.yaml.llmpod-promote-")
    notes = write_if_unchanged(path, b"newer\n", sha256(b"old\n"))
    assert notes == [f"removed {left[0]}, left by an interrupted promotion"]
    assert path.read_bytes() == b"newer\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.x.yaml"]


def test_a_non_regular_target_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "Pulumi.x.yaml"
    os.mkfifo(fifo)
    with pytest.raises(LlmpodError, match="it is not a regular file"):
        write_if_unchanged(fifo, b"new\n", sha256(b"old\n"))
