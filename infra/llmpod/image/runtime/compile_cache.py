"""vLLM's compile cache, built once per layout and shared through a volume.

Stdlib only (copied into the image). vLLM compiles the model with torch.compile
on every start (20-90 s on an H200) unless it finds its cache under
``VLLM_CACHE_ROOT`` (``torch_compile_cache/<hash>/rank_<i>_<j>/``, with the
Inductor and Triton artifacts beside it). llmpod keeps that cache on a shared
volume in a directory keyed by vLLM version, model, revision, TP/PP, GPU type
and the plan's arguments (``LLMPOD_COMPILE_CACHE_DIR``, built by the renderer).

Why vLLM never writes to the shared directory itself: two replicas starting at
once would both compile and write the same files into it, and a third starting
meanwhile could read a file still being written: vLLM does not promise that
concurrent writers and readers of one cache directory are safe. Instead:

1. before vLLM starts, a published cache is copied to a local directory
   (``LLMPOD_COMPILE_CACHE_LOCAL``, an emptyDir) and ``VLLM_CACHE_ROOT`` points
   there, so vLLM reads and writes only pod-local files;
2. after warmup (compilation and graph capture are long done), a replica whose
   start found no published cache copies its local cache to a private staging
   directory next to the key and renames it onto the key. ``rename(2)`` of a
   directory is atomic on one file system (NFS, EFS, Lustre, CephFS included)
   and refuses to replace a non-empty directory, so of two replicas racing
   the first rename wins, the second deletes its staging copy, and a reader
   sees either no cache or a complete one, never a partial one.

A published cache is never modified. vLLM hashes its compile configuration and
code into the directory names it uses, so a cache built for other settings is
simply not used (a cold compile) rather than used wrongly.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

#: Staging copies older than this were left by a replica that died mid-copy.
STALE_STAGING_S = 6 * 3600
_STAGING_MARK = ".partial-"


@dataclass(frozen=True)
class CacheStart:
    """What the entrypoint tells vLLM and logs about the cache at start."""

    env: dict[str, str]
    #: "off" (no shared directory configured), "warm" (a published cache was
    #: copied in), "cold" (none yet: this replica will publish one).
    state: str
    detail: str = ""


def prepare(shared: Path | None, local: Path) -> CacheStart:
    """Copy a published cache to ``local`` and point vLLM at ``local``."""
    if shared is None:
        return CacheStart(env={}, state="off")
    # Triton's JIT cache (fused-MoE, sampler and other Triton kernels) travels
    # with vLLM's: on the H200 the rest of engine init fell from 14-16 s to 3 s
    # once every cache on the machine was warm, not just vLLM's.
    env = {"TRITON_CACHE_DIR": str(local / "triton"), "VLLM_CACHE_ROOT": str(local)}
    try:
        local.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return CacheStart(
            env={},
            state="off",
            detail=f"cannot create {local} ({exc.strerror}); vLLM uses its default",
        )
    if not shared.is_dir():
        return CacheStart(env=env, state="cold", detail=f"no cache published at {shared} yet")
    try:
        shutil.copytree(shared, local, dirs_exist_ok=True, symlinks=True)
    except (OSError, shutil.Error) as exc:
        # A damaged copy is worse than none: start from an empty local cache.
        shutil.rmtree(local, ignore_errors=True)
        local.mkdir(parents=True, exist_ok=True)
        return CacheStart(
            env=env, state="cold", detail=f"copying {shared} failed ({exc}); compiling from scratch"
        )
    return CacheStart(env=env, state="warm", detail=f"copied from {shared}")


def _staging_dir(shared: Path) -> Path:
    return shared.parent / f".{shared.name}{_STAGING_MARK}{socket.gethostname()}-{os.getpid()}"


def _prune_stale_staging(parent: Path, now: float) -> None:
    for entry in parent.glob(f".*{_STAGING_MARK}*"):
        try:
            if now - entry.stat().st_mtime > STALE_STAGING_S:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def publish(local: Path, shared: Path) -> str:
    """Make ``local`` the published cache at ``shared`` unless one exists.

    Returns what happened, for the log. Never raises: the replica serves either
    way; only the next replicas' start time depends on this.
    """
    if shared.is_dir():
        return "already published"
    if not local.is_dir() or not any(local.iterdir()):
        return f"nothing to publish: {local} is empty"
    staging = _staging_dir(shared)
    try:
        shared.parent.mkdir(parents=True, exist_ok=True)
        _prune_stale_staging(shared.parent, time.time())
        shutil.copytree(local, staging, symlinks=True)
        os.rename(staging, shared)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY) or shared.is_dir():
            return "another replica published first"
        return f"not published: {exc}"
    except shutil.Error as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return f"not published: {exc}"
    return f"published to {shared}"
