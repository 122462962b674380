"""The probe server under slow, malformed and resetting clients (real sockets on 127.0.0.1).

Assertions are on threads, answers and log lines. Time only appears as short
configured timeouts and generous upper bounds for "eventually", so a busy
machine makes these tests slower, never red.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from llmpod.image.runtime.state import LifecycleState
from llmpod.image.runtime.status_server import StatusServer

CAP = 8
EVENTUALLY_S = 60.0


def _eventually(check: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + EVENTUALLY_S
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {EVENTUALLY_S}s: {what}")


@pytest.fixture
def server() -> Iterator[StatusServer]:
    srv = StatusServer(
        LifecycleState(), "127.0.0.1", 0, idle_timeout_s=1.0, deadline_s=2.0, max_connections=CAP
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.close()


def _handler_threads() -> int:
    # Handler threads are unnamed ("Thread-N (process_request_thread)").
    return sum("process_request_thread" in t.name for t in threading.enumerate())


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=EVENTUALLY_S)
    return sock


def _request(port: int, raw: bytes) -> bytes:
    with _connect(port) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server closed ``sock`` (EOF, after an optional 503)."""
    sock.settimeout(EVENTUALLY_S)
    try:
        while data := sock.recv(4096):
            if not data.startswith(b"HTTP/1.0 503"):
                return False
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_300_slow_clients_never_hold_more_than_the_cap(server: StatusServer) -> None:
    peak = 0
    socks = []
    try:
        for i in range(300):
            sock = _connect(server.port)
            sock.sendall(b"GET /re")  # a request that never finishes
            socks.append(sock)
            if i % 10 == 0:
                peak = max(peak, _handler_threads())
        peak = max(peak, _handler_threads())
        assert peak <= CAP, f"{peak} handler threads for 300 slow clients"
        # Every slow client is eventually cut off (idle timeout or deadline)...
        assert all(_closed_by_server(s) for s in socks)
        _eventually(lambda: _handler_threads() == 0, "handler threads exit")
    finally:
        for s in socks:
            s.close()
    # ...and a probe is answered afterwards.
    assert _request(server.port, b"GET /live HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 200")


def test_over_the_cap_a_connection_gets_503_and_is_closed_at_once() -> None:
    # Long timeouts: the CAP slow clients surely still hold every slot.
    srv = StatusServer(
        LifecycleState(),
        "127.0.0.1",
        0,
        idle_timeout_s=120.0,
        deadline_s=120.0,
        max_connections=CAP,
        max_per_client=CAP,  # the global cap under test, all from one address
    )
    srv.start()
    socks = []
    try:
        for _ in range(CAP):
            sock = _connect(srv.port)
            sock.sendall(b"GET /re")
            socks.append(sock)
        _eventually(lambda: _handler_threads() == CAP, "every slot taken")
        answer = _request(srv.port, b"GET /live HTTP/1.0\r\n\r\n")
        assert answer.startswith(b"HTTP/1.0 503") and answer.endswith(b"busy\n")
        assert srv.refused == 1 and _handler_threads() == CAP
    finally:
        for s in socks:
            s.close()
        srv.close()


def test_a_client_trickling_bytes_is_cut_off_by_the_deadline(server: StatusServer) -> None:
    # One byte well inside the idle timeout each time: only the total deadline stops it.
    with _connect(server.port) as sock:
        sent = 0
        header = b"GET /status HTTP/1.0\r\nX-Slow: " + b"a" * 10_000
        closed = False
        end = time.monotonic() + EVENTUALLY_S
        while time.monotonic() < end:
            try:
                sock.sendall(header[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            sent += 1
            sock.settimeout(0.2)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
        assert closed, f"still connected after trickling {sent} bytes"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET /live HTTP/9.9\r\n\r\n", b"505"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n", b"414"),
        (b"GET /live HTTP/1.0\r\n" + b"X: y\r\n" * 200 + b"\r\n", b"431"),
        (b"\x00\xff\x16\x03\x01\x02\x00\x01\x00\r\n\r\n", b"400"),
    ],
    ids=["one-word", "http-9.9", "70k-request-line", "200-headers", "tls-hello"],
)
def test_malformed_http_gets_a_4xx_and_the_server_keeps_serving(
    server: StatusServer, capfd: pytest.CaptureFixture[str], raw: bytes, status: bytes
) -> None:
    answer = _request(server.port, raw)
    # One bare word is HTTP/0.9 to the stdlib: it answers with the error page only.
    code = (
        answer.split(b" ", 2)[1]
        if answer.startswith(b"HTTP/")
        else answer.split(b"Error code: ", 1)[1][:3]
    )
    assert code == status, answer[:100]
    assert _request(server.port, b"GET /live HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 200")
    assert "Traceback" not in capfd.readouterr().err


def test_a_reset_connection_is_one_json_log_line(
    server: StatusServer, capfd: pytest.CaptureFixture[str]
) -> None:
    sock = _connect(server.port)
    sock.sendall(b"GET /sta")  # the handler is now blocked reading the request line
    # SO_LINGER 0: close() sends RST instead of FIN.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    _eventually(lambda: _handler_threads() == 1, "the handler thread is reading")
    sock.close()
    _eventually(lambda: _handler_threads() == 0, "the handler thread is done")
    out, err = capfd.readouterr()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [(r["event"], r["error"]) for r in lines] == [
        ("status_client_error", "ConnectionResetError")
    ]
    assert lines[0]["client"].startswith("127.0.0.1:")
    assert "Traceback" not in err and err == ""


def _connect_from(source: str, port: int) -> socket.socket:
    # Any 127.x.y.z is loopback on Linux: a second client address without a network.
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


def test_one_client_address_cannot_take_every_slot() -> None:
    srv = StatusServer(
        LifecycleState(), "127.0.0.1", 0, idle_timeout_s=120.0, deadline_s=120.0,
        max_connections=CAP, max_per_client=2,
    )  # fmt: skip
    srv.start()
    socks = []
    try:
        for _ in range(CAP):  # a slow client opens as many as it can from 127.0.0.2
            sock = _connect_from("127.0.0.2", srv.port)
            sock.sendall(b"GET /re")
            socks.append(sock)
        _eventually(lambda: srv.refused == CAP - 2, "all but two refused")
        assert _handler_threads() == 2
        # Another address (the kubelet's) is still answered.
        assert _request(srv.port, b"GET /live HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 200")
    finally:
        for s in socks:
            s.close()
        srv.close()


def test_probes_succeed_while_100_slow_clients_keep_reconnecting() -> None:
    # The finding: 40 slow clients that reconnect when cut failed 96% of /ready probes
    # (64 failed all), because they could hold all 32 handler slots.
    state = LifecycleState()
    srv = StatusServer(state, "127.0.0.1", 0, idle_timeout_s=1.0, deadline_s=2.0)
    srv.start()
    stop = threading.Event()

    def slow_client() -> None:
        while not stop.is_set():
            try:
                with _connect_from("127.0.0.2", srv.port) as sock:
                    sock.sendall(b"GET /rea")  # and then nothing, until cut off
                    sock.settimeout(5)
                    while sock.recv(4096):
                        pass
            except OSError:
                time.sleep(0.01)

    attackers = [threading.Thread(target=slow_client, daemon=True) for _ in range(100)]
    for thread in attackers:
        thread.start()
    try:
        time.sleep(1.0)  # let them take what they can
        answers = []
        for _ in range(200):
            try:
                answers.append(_request(srv.port, b"GET /live HTTP/1.0\r\n\r\n")[:12])
            except OSError as exc:
                answers.append(repr(exc).encode())
            time.sleep(0.01)
        ok = sum(a.startswith(b"HTTP/1.0 200") for a in answers)
        assert ok / len(answers) >= 0.99, answers[:5]
    finally:
        stop.set()
        srv.close()
