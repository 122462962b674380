"""One writer per directory: render and promote refuse, untouched, while another holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmpod.dir_lock import directory_locked
from llmpod.errors import LlmpodError
from llmpod.render.writer import write_tree

BUSY = LlmpodError(code="busy", message="someone else is writing", suggestions=[])


def test_a_second_holder_is_refused_and_the_lock_is_free_again_after(tmp_path: Path) -> None:
    with (
        directory_locked(tmp_path, busy=BUSY),
        pytest.raises(LlmpodError, match="someone else is writing"),
        directory_locked(tmp_path, busy=BUSY),
    ):
        pass
    with directory_locked(tmp_path, busy=BUSY):  # released on exit, not held forever
        pass


def test_render_into_a_directory_another_writer_holds_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "build"
    with (
        directory_locked(tmp_path, busy=BUSY),
        pytest.raises(LlmpodError, match="Another llmpod render is writing") as info,
    ):
        write_tree(out, {"a.yaml": "a: 1\n"})
    assert info.value.code == "output_dir_busy"
    assert sorted(tmp_path.iterdir()) == []
