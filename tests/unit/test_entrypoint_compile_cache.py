"""Publishing vLLM's compile cache: one complete copy per key, whoever races."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from llmpod.image.runtime import compile_cache as cc
from llmpod.image.runtime.settings import SettingsError, settings_from_env


def _compiled(local: Path, text: str = "graph") -> Path:
    f = local / "torch_compile_cache/abc/rank_0_0/backbone/artifact"
    f.parent.mkdir(parents=True)
    f.write_text(text)
    return local


def test_no_shared_dir_leaves_vllm_alone(tmp_path: Path) -> None:
    start = cc.prepare(None, tmp_path / "local")
    assert (start.env, start.state) == ({}, "off")


def test_cold_start_points_vllm_at_the_local_dir(tmp_path: Path) -> None:
    start = cc.prepare(tmp_path / "shared/key", tmp_path / "local")
    assert start.state == "cold"
    assert start.env == {
        "TRITON_CACHE_DIR": str(tmp_path / "local/triton"),
        "VLLM_CACHE_ROOT": str(tmp_path / "local"),
    }
    assert (tmp_path / "local").is_dir()


def test_publish_then_a_new_replica_copies_it(tmp_path: Path) -> None:
    shared = tmp_path / "vol/key"
    assert cc.publish(_compiled(tmp_path / "a"), shared) == f"published to {shared}"
    start = cc.prepare(shared, tmp_path / "b")
    assert start.state == "warm"
    assert (
        tmp_path / "b/torch_compile_cache/abc/rank_0_0/backbone/artifact"
    ).read_text() == "graph"
    assert sorted(p.name for p in shared.parent.iterdir()) == ["key"]


def test_the_second_publisher_loses_and_leaves_the_first_copy_intact(tmp_path: Path) -> None:
    shared = tmp_path / "vol/key"
    cc.publish(_compiled(tmp_path / "a", "first"), shared)
    assert cc.publish(_compiled(tmp_path / "b", "second"), shared) == "already published"
    assert (shared / "torch_compile_cache/abc/rank_0_0/backbone/artifact").read_text() == "first"


def test_losing_the_rename_race_removes_the_staging_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "vol/key"
    real_rename = os.rename

    def racing_rename(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        # Another replica's rename lands between our check and our rename.
        _compiled(Path(dst), "other replica")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", racing_rename)  # the os module cc uses
    assert (
        cc.publish(_compiled(tmp_path / "a", "mine"), shared) == "another replica published first"
    )
    assert sorted(p.name for p in shared.parent.iterdir()) == ["key"]
    assert (
        shared / "torch_compile_cache/abc/rank_0_0/backbone/artifact"
    ).read_text() == "other replica"


def test_nothing_compiled_publishes_nothing(tmp_path: Path) -> None:
    (tmp_path / "local").mkdir()
    assert cc.publish(tmp_path / "local", tmp_path / "vol/key").startswith("nothing to publish")
    assert not (tmp_path / "vol/key").exists()


def test_stale_staging_of_a_dead_replica_is_pruned_fresh_one_kept(tmp_path: Path) -> None:
    vol = tmp_path / "vol"
    stale = vol / ".key.partial-host-1"
    fresh = vol / ".key.partial-host-2"
    stale.mkdir(parents=True)
    fresh.mkdir()
    old = time.time() - cc.STALE_STAGING_S - 60
    os.utime(stale, (old, old))
    cc.publish(_compiled(tmp_path / "a"), vol / "key")
    assert sorted(p.name for p in vol.iterdir()) == [".key.partial-host-2", "key"]


def test_settings_refuse_a_relative_cache_dir() -> None:
    with pytest.raises(
        SettingsError,
        match=r"LLMPOD_COMPILE_CACHE_DIR='cache/x' is not an "
        r"absolute directory path",
    ):
        settings_from_env({"LLMPOD_COMPILE_CACHE_DIR": "cache/x"})


def test_settings_default_local_copy_under_tmp() -> None:
    s = settings_from_env({"LLMPOD_COMPILE_CACHE_DIR": "/var/cache/llmpod/compile/k"})
    assert s.compile_cache_dir == Path("/var/cache/llmpod/compile/k")
    assert s.compile_cache_local == Path("/tmp/llmpod/vllm-cache")
