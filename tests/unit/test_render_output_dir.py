"""`render --out` replaces only what a render wrote, and the swap survives SIGKILL."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from llmpod.cli.main import main
from llmpod.errors import LlmpodError
from llmpod.render.output_dir import MARKER, check_output_dir
from llmpod.render.writer import backup_path, recover, staging_path, write_tree

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "stacks"


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project of our own (Pulumi.yaml, stacks/, a README, a user file), as cwd."""
    proj = tmp_path / "proj"
    (proj / "stacks").mkdir(parents=True)
    (proj / "Pulumi.yaml").write_text("name: llmpod\nruntime: python\n")
    (proj / "README.md").write_text("# mine\n")
    (proj / "notes").mkdir()
    (proj / "notes" / "todo.txt").write_text("keep me\n")
    (proj / "stacks" / "Pulumi.dev.yaml").write_bytes((STACKS / "Pulumi.dev.yaml").read_bytes())
    (tmp_path / "neighbour.txt").write_text("outside the project\n")
    monkeypatch.chdir(proj)
    return proj


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (".", "it is the current directory"),
        ("stacks", "it is the stacks directory"),
        ("stacks/..", "it is the current directory"),
        ("..", r"it contains the current directory"),
        ("/", r"it contains the current directory"),
        ("README.md", "it is an existing file, not a directory"),
        ("stacks/Pulumi.dev.yaml", "it is an existing file"),
        ("notes", r"non-empty directory that llmpod did not create \(no \.llmpod-render marker\)"),
    ],
)
def test_dangerous_out_is_refused_and_nothing_is_touched(
    project: Path, capsys: pytest.CaptureFixture[str], out: str, message: str
) -> None:
    before = _tree(project.parent)
    rc = main(["render", "dev", "--stacks-dir", "stacks", "--out", out])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("error: Refusing to render into ") and "Traceback" not in err
    assert re.search(message, err), err
    assert "Nothing was written or deleted" in err
    assert _tree(project.parent) == before


def test_a_symlink_to_a_directory_is_refused(project: Path) -> None:
    (project / "link").symlink_to(project / "notes")
    with pytest.raises(LlmpodError, match="it is a symbolic link"):
        check_output_dir(Path("link"), project / "stacks")
    # a symlinked marker does not make a directory ours either
    victim = project / "victim"
    victim.mkdir()
    (victim / "data").write_text("precious\n")
    (victim / MARKER).symlink_to(project / "README.md")
    with pytest.raises(LlmpodError, match="non-empty directory that llmpod did not create"):
        check_output_dir(victim, project / "stacks")


def test_a_parent_reached_through_a_symlink_is_refused(project: Path) -> None:
    (project / "up").symlink_to(project.parent)
    with pytest.raises(LlmpodError, match="symbolic link"):
        check_output_dir(Path("up"), project / "stacks")
    with pytest.raises(LlmpodError, match="it contains the current directory"):
        check_output_dir(Path("up/proj/.."), project / "stacks")


def test_another_project_root_is_refused(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "Pulumi.yaml").write_text("name: other\n")
    with pytest.raises(LlmpodError, match=r"looks like a project \(it holds Pulumi.yaml\)"):
        check_output_dir(other, project / "stacks")


def test_render_replaces_its_own_output_and_keeps_a_marker(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "dev", "--stacks-dir", "stacks", "--out", "build/dev"]) == 0
    out = project / "build" / "dev"
    assert (out / MARKER).is_file()
    (out / "qwen-7b" / "stale.yaml").write_text("from a removed service\n")
    assert main(["render", "dev", "--stacks-dir", "stacks", "--out", "build/dev"]) == 0
    assert not (out / "qwen-7b" / "stale.yaml").exists()
    assert (out / "qwen-7b" / "deployment-qwen-7b.yaml").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["dev"]  # no staging or backup
    capsys.readouterr()


def test_an_empty_directory_is_used(project: Path) -> None:
    (project / "empty").mkdir()
    write_tree(project / "empty", {"svc/a.yaml": "a: 1\n"})
    assert _tree(project / "empty").keys() == {MARKER, "svc/a.yaml"}


def test_file_names_cannot_climb_out_of_the_tree(project: Path) -> None:
    with pytest.raises(ValueError, match="outside the output tree"):
        write_tree(project / "out", {"../escape.yaml": "x\n"})
    assert not (project / "escape.yaml").exists()
    assert not (project / "out").exists()
    assert not staging_path(project / "out").exists()


def test_a_failure_while_staging_leaves_the_old_output(project: Path) -> None:
    out = project / "build" / "dev"
    write_tree(out, {"svc/old.yaml": "old\n"})
    old = _tree(out)

    def boom(step: str) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_tree(out, {"svc/new.yaml": "new\n"}, checkpoint=boom)
    assert _tree(out) == old
    assert sorted(p.name for p in out.parent.iterdir()) == ["dev"]


def test_a_stranger_directory_under_the_staging_name_is_not_deleted(project: Path) -> None:
    out = project / "build" / "dev"
    out.parent.mkdir()
    strange = staging_path(out)
    strange.mkdir()
    (strange / "mine.txt").write_text("not llmpod's\n")
    with pytest.raises(LlmpodError, match="was not made by llmpod"):
        write_tree(out, {"svc/a.yaml": "a\n"})
    assert (strange / "mine.txt").read_text() == "not llmpod's\n"
    assert not out.exists()


_KILLER = """
import os, signal, sys
from pathlib import Path
from llmpod.render.writer import write_tree

def checkpoint(step):
    if step == sys.argv[1]:
        os.kill(os.getpid(), signal.SIGKILL)

write_tree(Path(sys.argv[3]), {"svc/new.yaml": "new\\n"}, checkpoint=checkpoint,
           exchange=sys.argv[2] == "exchange")
"""


@pytest.mark.parametrize(
    ("step", "mode", "at_out_after_kill"),
    [
        ("staged", "exchange", "old"),
        ("exchanged", "exchange", "new"),
        ("staged", "rename", "old"),
        ("old-moved", "rename", None),  # the one gap of the two-rename path: recovery fills it
        ("new-in-place", "rename", "new"),
    ],
)
def test_sigkill_at_each_step_leaves_old_or_new_and_recovery_cleans_up(
    tmp_path: Path, step: str, mode: str, at_out_after_kill: str | None
) -> None:
    out = tmp_path / "build" / "dev"
    write_tree(out, {"svc/old.yaml": "old\n"})
    old_tree = _tree(out)
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, step, mode, str(out)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    if at_out_after_kill == "old":
        assert _tree(out) == old_tree
    elif at_out_after_kill == "new":
        assert _tree(out).keys() == {MARKER, "svc/new.yaml"}
    else:
        assert not out.exists() and (backup_path(out) / "svc" / "old.yaml").is_file()
    notes = recover(out)
    assert notes  # something was left behind, and recovery said what it did
    assert out.is_dir()
    if at_out_after_kill is None:
        assert _tree(out) == old_tree and "restored" in notes[0]
    assert sorted(p.name for p in out.parent.iterdir()) == ["dev"]
    # and the next render simply works
    write_tree(out, {"svc/next.yaml": "next\n"})
    assert _tree(out).keys() == {MARKER, "svc/next.yaml"}


def test_the_next_render_recovers_before_writing(tmp_path: Path) -> None:
    out = tmp_path / "dev"
    write_tree(out, {"svc/old.yaml": "old\n"})
    os.rename(out, backup_path(out))  # as a SIGKILL after the first rename leaves it
    notes = write_tree(out, {"svc/new.yaml": "new\n"})
    assert any("restored" in n for n in notes)
    assert _tree(out).keys() == {MARKER, "svc/new.yaml"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev"]


@pytest.mark.parametrize("exchange", [True, False])
def test_an_old_tree_that_will_not_go_does_not_fail_a_render_that_landed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    # Before: the new tree was in place, deleting the old one failed (a read-only
    # subfolder for a non-root user), the render exited 1 saying "Nothing else was
    # changed", and every later render failed on the leftover.
    from llmpod.render import writer

    out = tmp_path / "out"
    write_tree(out, {"a.yaml": "old\n"})
    real = writer._rmtree_ours

    def stubborn(path: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path / "ro"))

    monkeypatch.setattr(writer, "_rmtree_ours", stubborn)
    notes = write_tree(out, {"a.yaml": "new\n"}, exchange=exchange)
    assert (out / "a.yaml").read_text() == "new\n"  # it landed
    assert any("could not be fully removed" in n and "remove it by hand" in n for n in notes)
    monkeypatch.setattr(writer, "_rmtree_ours", real)
    later = write_tree(out, {"a.yaml": "newer\n"})  # the leftover does not block
    assert (out / "a.yaml").read_text() == "newer\n"
    assert any("removed" in n for n in later)
    assert not staging_path(out).exists() and not backup_path(out).exists()


def test_a_users_own_backup_named_directory_is_never_moved_into_the_output(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    mine = backup_path(out)
    mine.mkdir()
    (mine / "notes.txt").write_text("mine\n")  # no render marker: not llmpod's
    with pytest.raises(LlmpodError) as err:
        write_tree(out, {"a.yaml": "x\n"})
    assert err.value.code == "unsafe_output_dir" and str(mine) in err.value.message
    assert (mine / "notes.txt").read_text() == "mine\n" and not out.exists()


def test_read_only_folders_inside_an_old_output_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, {"svc/a.yaml": "old\n"})
    (out / "svc").chmod(0o500)  # a user made part of the output read-only
    try:
        write_tree(out, {"svc/a.yaml": "new\n"})
    finally:
        for path in (out, staging_path(out)):
            if (path / "svc").exists():
                (path / "svc").chmod(0o700)
    assert (out / "svc" / "a.yaml").read_text() == "new\n"
    assert not staging_path(out).exists()
