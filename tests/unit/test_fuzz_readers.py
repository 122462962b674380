"""Property tests for the readers of untrusted bytes (issue 21): a plan file, a
recording, and an HTTP answer. Whatever the bytes, the reader returns a value or
raises LlmpodError (a clear error naming the source); nothing else escapes, and
nothing takes longer than its bound. Hypothesis profile "ci" (tests/unit/conftest.py):
derandomized, so a failure reproduces."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmpod.diagnose import recording
from llmpod.errors import LlmpodError
from llmpod.http_get import get
from llmpod.verify.planned import from_plan_file

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
#: Bytes that look like what each reader expects, or nothing like it.
_PLAN_BYTES = st.one_of(
    st.binary(max_size=2048),
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"vllm_args": st.lists(st.text(max_size=12), max_size=6), "expected": _JSON}
    ).map(lambda v: json.dumps(v).encode()),
    st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
)
_LINE = st.one_of(
    st.fixed_dictionaries({"timestamp": _JSON, "text": _JSON}).map(json.dumps),
    st.text(max_size=80),
    st.sampled_from(['{"timestamp": NaN, "text": ""}', '{"timestamp": -Infinity, "text": "x"}']),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_PLAN_BYTES)
def test_any_plan_file_is_a_plan_or_a_clear_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(data)
    try:
        from_plan_file(str(path))
    except LlmpodError as err:
        assert str(path) in err.message


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_LINE, min_size=1, max_size=5))
def test_any_recording_is_scrapes_or_a_clear_error(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        scrapes = recording.load([path])
    except LlmpodError as err:
        assert str(path) in err.message or "no scrapes" in err.message
    else:
        assert all(s.timestamp == s.timestamp for s in scrapes)  # never NaN


class _OneAnswerServer:
    """Answers every connection with the current raw bytes, then closes."""

    def __init__(self) -> None:
        self.raw = b""
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/metrics"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(2)
                    conn.recv(65536)
                    conn.sendall(self.raw)
                except OSError:
                    pass


@pytest.fixture(scope="module")
def answer_server() -> Iterator[_OneAnswerServer]:
    srv = _OneAnswerServer()
    yield srv
    srv.sock.close()


_STATUS_LINES = st.sampled_from(
    [b"HTTP/1.1 200 OK", b"HTTP/1.1 302 Found", b"HTTP/1.0 500 Oops", b"HTTP/1.1 2000 X", b""]
)
_HEADERS = st.lists(
    st.sampled_from(
        [b"Content-Length: 5", b"Content-Length: -1", b"Content-Length: 99999999999",
         b"Transfer-Encoding: chunked", b"Location: ftp://x/", b"X: " + b"a" * 70_000]
    )
    | st.binary(max_size=40),
    max_size=4,
)  # fmt: skip


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(status=_STATUS_LINES, headers=_HEADERS, body=st.binary(max_size=300))
def test_any_http_answer_is_a_body_or_a_clear_error(
    answer_server: _OneAnswerServer, status: bytes, headers: list[bytes], body: bytes
) -> None:
    answer_server.raw = status + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body
    try:
        got = get(answer_server.url, timeout_s=3, max_bytes=1 << 16)
    except LlmpodError as err:
        assert answer_server.url in err.message
    else:
        assert len(got) <= 1 << 16
