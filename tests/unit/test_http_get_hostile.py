"""Hostile and broken HTTP servers meet llmpod's one HTTP GET (verify, diagnose): each
answer is a clear error naming the URL, never an internal error, and nothing takes
longer than its deadline (issue 21, items 2, 3 and 5). Before, 31 such inputs ended
in "internal error … this is a bug in llmpod", a dripping server kept a 5 s timeout
alive past 70 s, redirects to ftp:// were followed and passwords were printed."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from llmpod.errors import LlmpodError
from llmpod.http_get import get

Behaviour = Callable[[socket.socket], None]


def _send(raw: bytes) -> Behaviour:
    def serve(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(raw)

    return serve


def _drip(conn: socket.socket) -> None:
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(40):  # a byte every 0.2 s: each read succeeds, the whole never ends
        time.sleep(0.2)
        try:
            conn.sendall(b"x")
        except OSError:
            return


@pytest.fixture
def server() -> Iterator[Callable[[Behaviour], str]]:
    listeners: list[socket.socket] = []

    def start(behaviour: Behaviour) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        listeners.append(sock)

        def run() -> None:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):  # the client may hang up first
                behaviour(conn)

        threading.Thread(target=run, daemon=True).start()
        return f"http://127.0.0.1:{sock.getsockname()[1]}/metrics"

    yield start
    for sock in listeners:
        sock.close()


HOSTILE = {
    "short body": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
        "a body cut short",
    ),
    "bad status line": (b"HTTP/1.1 OK-ish\r\n\r\n", "a malformed answer"),
    "not HTTP at all": (b"SSH-2.0-OpenSSH_9.6\r\n", "a malformed answer"),
    "101 headers": (
        b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(101)) + b"\r\n",
        "a malformed answer",
    ),
    "70 KB header line": (
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
        "over-long line",
    ),
    "bad chunked encoding": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        "badly chunked",
    ),
    "redirect to ftp": (
        b"HTTP/1.1 302 Found\r\nLocation: ftp://evil.example/x\r\nContent-Length: 0\r\n\r\n",
        "pointing to ftp://evil.example/x",
    ),
    "declared huge body": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\nxx",
        "at most",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_broken_answer_is_a_clear_error(server: Callable[[Behaviour], str], case: str) -> None:
    raw, says = HOSTILE[case]
    url = server(_send(raw))
    with pytest.raises(LlmpodError) as err:
        get(url, timeout_s=5)
    assert says in err.value.message and url in err.value.message, err.value.message


def test_a_dripping_server_cannot_outlive_the_deadline(
    server: Callable[[Behaviour], str],
) -> None:
    url = server(_drip)
    started = time.monotonic()
    with pytest.raises(LlmpodError, match="within 1 s"):
        get(url, timeout_s=1)
    assert time.monotonic() - started < 3.0  # the deadline (1 s) plus one 0.2 s drip, with slack


def test_a_body_over_the_cap_is_refused(server: Callable[[Behaviour], str]) -> None:
    body = b"y" * 5000
    url = server(_send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body))
    with pytest.raises(LlmpodError, match="a body larger than 1000 bytes"):
        get(url, timeout_s=5, max_bytes=1000)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:99999/metrics", "cannot be parsed"),
        ("http://127.0.0.1:80x/metrics", "cannot be parsed"),
        ("http://[::1/metrics", "cannot be parsed"),
        ("http://127.0.0.1:8000/met rics", "white space or control characters"),
        ("http://127.0.0.1:8000/m\r\nX: y", "white space or control characters"),
        ("ftp://127.0.0.1/metrics", "is not an http(s) address"),
    ],
)
def test_urls_that_cannot_be_right_are_refused_before_connecting(url: str, says: str) -> None:
    with pytest.raises(LlmpodError) as err:
        get(url, timeout_s=1)
    assert err.value.code == "bad_url" and says in err.value.message


def test_a_password_in_the_url_is_never_printed(server: Callable[[Behaviour], str]) -> None:
    url = server(_send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
    secret = url.replace("http://", "http://admin:hunter2@")
    with pytest.raises(LlmpodError) as err:
        get(secret, timeout_s=5)
    assert "hunter2" not in err.value.message and "admin:***@" in err.value.message


def test_verify_on_deep_json_from_v1_models_is_a_clear_error(
    server: Callable[[Behaviour], str], capsys: pytest.CaptureFixture[str]
) -> None:
    from llmpod.verify.running import _fetch_json

    body = b"[" * 200_000 + b"]" * 200_000
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    url = server(_send(head + body))
    with pytest.raises(LlmpodError, match="nested too deeply"):
        _fetch_json(url, "vLLM's /v1/models", 5)
