"""--require-healthy against a local server, and the atomic writer."""

from __future__ import annotations

import http.server
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from promote_fixtures import write_stacks

from llmpod.cli.main import main
from llmpod.environments.health import check_healthy
from llmpod.environments.stack_yaml import sha256, write_if_unchanged
from llmpod.errors import LlmpodError


def _server(status: int, delay_s: float = 0.0) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay_s)
            try:
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (the timeout test)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/health"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def healthy() -> Iterator[str]:
    yield from _server(200)


@pytest.fixture
def unhealthy() -> Iterator[str]:
    yield from _server(503)


@pytest.fixture
def slow() -> Iterator[str]:
    yield from _server(200, delay_s=1.5)


def test_healthy_source_allows_the_promotion(tmp_path: Path, healthy: str) -> None:
    write_stacks(tmp_path)
    before = (tmp_path / "Pulumi.production.yaml").read_bytes()
    assert (
        main(
            [
                "promote",
                "staging",
                "production",
                "--stacks-dir",
                str(tmp_path),
                "--yes",
                "--require-healthy",
                healthy,
            ]
        )
        == 0
    )
    assert (tmp_path / "Pulumi.production.yaml").read_bytes() != before


def test_unhealthy_source_is_refused(
    tmp_path: Path, unhealthy: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_stacks(tmp_path)
    before = (tmp_path / "Pulumi.production.yaml").read_bytes()
    assert (
        main(
            [
                "promote",
                "staging",
                "production",
                "--stacks-dir",
                str(tmp_path),
                "--yes",
                "--require-healthy",
                unhealthy,
            ]
        )
        == 1
    )
    assert "answered HTTP 503; it must answer HTTP 200" in capsys.readouterr().err
    assert (tmp_path / "Pulumi.production.yaml").read_bytes() == before


def test_slow_source_times_out(slow: str) -> None:
    with pytest.raises(LlmpodError, match=r"did not answer within 0\.3 s"):
        check_healthy(slow, timeout_s=0.3)


def test_unreachable_source() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LlmpodError, match="could not be reached"):
        check_healthy(f"http://127.0.0.1:{port}/health", timeout_s=1)


def test_non_http_url_is_rejected() -> None:
    with pytest.raises(LlmpodError, match="is not an http:// or https:// URL"):
        check_healthy("file:///etc/passwd")


def test_atomic_write_keeps_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_bytes(b"old\n")
    os.chmod(path, 0o640)
    write_if_unchanged(path, b"new\n", sha256(b"old\n"))
    assert path.read_bytes() == b"new\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.x.yaml"]


def test_atomic_write_refuses_when_content_moved_on(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_bytes(b"someone else's edit\n")
    with pytest.raises(LlmpodError, match="changed while the promotion was being prepared"):
        write_if_unchanged(path, b"new\n", sha256(b"old\n"))
    assert path.read_bytes() == b"someone else's edit\n"
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["Pulumi.x.yaml"]
