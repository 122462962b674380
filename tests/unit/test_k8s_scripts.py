"""The rendered k8s-side scripts, executed for real (sh, python3) on local paths."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from llmpod.templating import render_template as render


def _sh(
    script: str,
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "script.sh"
    path.write_text(script)
    return subprocess.run(
        ["/bin/sh", str(path), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _wait_script(tmp_path: Path, rounds: int) -> str:
    return render(
        "weights-wait.sh.j2",
        marker_path=str(tmp_path / "marker"),
        expected_marker_path=str(tmp_path / "expected"),
        loader_job="svc-weights-1",
        max_wait_rounds=rounds,
        target_dir=str(tmp_path),
    )


def test_wait_passes_only_for_the_exact_marker(tmp_path: Path) -> None:
    (tmp_path / "expected").write_text("source=hf://a/b\nrevision=r2\n")
    script = _wait_script(tmp_path, rounds=0)
    missing = _sh(script, tmp_path)
    assert missing.returncode == 1
    assert "kubectl logs job/svc-weights-1" in missing.stderr
    (tmp_path / "marker").write_text("source=hf://a/b\nrevision=r1\n")  # an older revision
    assert _sh(script, tmp_path).returncode == 1
    (tmp_path / "marker").write_text("source=hf://a/b\nrevision=r2\n")
    done = _sh(script, tmp_path)
    assert done.returncode == 0 and "weights present" in done.stdout


def test_hf_loader_never_downloads_when_the_marker_matches(tmp_path: Path) -> None:
    text = "llmpod-weights v1\nsource=hf://org/model\nrevision=main\n"
    (tmp_path / "m").write_text(text)
    script = render(
        "weights-loader-hf.py.j2",
        repo_id="org/model",
        revision="main",
        target_dir=str(tmp_path),
        marker_path=str(tmp_path / "m"),
        marker_text=text,
        expected_marker_path="unused",
    )
    (tmp_path / "loader.py").write_text(script)
    # HF_HUB_OFFLINE: any attempt to reach the Hub would raise instead of passing.
    result = subprocess.run(
        [sys.executable, str(tmp_path / "loader.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "nothing to download" in result.stdout


def _fake_ray(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ray = bin_dir / "ray"
    ray.write_text('#!/bin/sh\necho "ray $*"\n')
    ray.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_worker_waits_for_the_leaders_ray_head_then_joins_it(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        script = render("ray-node.sh.j2", ray_port=port, join_rounds=2)
        env = {**_fake_ray(tmp_path), "LWS_LEADER_ADDRESS": "127.0.0.1"}
        result = _sh(script, tmp_path, "worker", env=env)
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    assert f"--address=127.0.0.1:{port} --block" in result.stdout


def test_worker_gives_up_with_a_clear_message_when_the_leader_never_appears(tmp_path: Path) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens on this port now
    script = render("ray-node.sh.j2", ray_port=port, join_rounds=0)
    result = _sh(
        script, tmp_path, "worker", env={**_fake_ray(tmp_path), "LWS_LEADER_ADDRESS": "127.0.0.1"}
    )
    assert result.returncode == 1
    assert f"cannot reach the Ray head at 127.0.0.1:{port}" in result.stderr
    assert "ray start" not in result.stdout
