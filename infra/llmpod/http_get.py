"""One bounded HTTP GET for everything llmpod reads from a server (verify, diagnose).

Bounded in every direction a hostile or broken server can push: one deadline for the
whole request (a server dripping a byte every 2 s cannot keep it alive past it), a
cap on the body, http.client's own limits on header count and line length, no
redirects (a 3xx is reported with where it points, so nothing is fetched from an
address the user did not give), and every failure is one LlmpodError that names the
URL — with any user:password in it redacted — and what was wrong.
"""

from __future__ import annotations

import http.client
import ssl
import time
from urllib.parse import SplitResult, urlsplit, urlunsplit

from llmpod.errors import LlmpodError, shorten

#: /metrics of a busy vLLM is a few hundred KiB; /v1/models and /status far less.
MAX_BODY_BYTES = 32 << 20
_CHUNK = 64 << 10


def redacted(url: str, *, quote: bool = False) -> str:
    """``url`` for messages: a password in it is replaced, the rest kept (control
    characters escaped, cut to 120 characters)."""
    try:
        parts = urlsplit(url)
        if parts.password is not None:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            url = urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        pass
    return shorten(url, 120, quote=quote)


def _bad_url(url: str, problem: str, example: str) -> LlmpodError:
    return LlmpodError(
        code="bad_url",
        message=f"URL {redacted(url, quote=True)} {problem}.",
        suggestions=[f"e.g. http://127.0.0.1:8000 ({example})"],
    )


def checked_url(url: str, *, example: str) -> SplitResult:
    """``url`` split, once it is an http(s) address with a host and a valid port."""
    if any(ch.isspace() for ch in url) or any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise _bad_url(url, "contains white space or control characters", example)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a non-numeric or out-of-range port
    except ValueError as exc:
        raise _bad_url(url, f"cannot be parsed ({exc})", example) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad_url(url, "is not an http(s) address of a vLLM server", example)
    if port == 0:
        raise _bad_url(url, "has port 0", example)
    return parts


def _unreachable(url: str, reason: object, timeout_s: float) -> LlmpodError:
    return LlmpodError(
        code="unreachable",
        message=f"Cannot reach {redacted(url)} within {timeout_s:g} s: {reason}.",
        suggestions=[
            "check the server is running and listening on that host and port",
            "from inside a cluster, port-forward first (kubectl port-forward svc/NAME 8000)",
        ],
    )


def _broken(url: str, problem: str) -> LlmpodError:
    return LlmpodError(
        code="bad_http_answer",
        message=f"{redacted(url)} answered with {problem}; that is not a working HTTP server.",
        suggestions=["check the host and port are the vLLM server's, not another service"],
    )


class HttpStatusError(LlmpodError):
    """The server answered, with a status other than 200."""

    def __init__(self, url: str, status: int, reason: str, location: str | None) -> None:
        where = f", pointing to {redacted(location)}" if location else ""
        super().__init__(
            code="http_status",
            message=f"{redacted(url)} answered HTTP {status} "
            f"({shorten(reason, 60, quote=False)}){where}.",
            suggestions=(
                ["give the address it points to (llmpod does not follow redirects)"]
                if 300 <= status < 400
                else ["check the host and port", "a gateway may not forward this path"]
            ),
        )
        self.status = status


def get(url: str, *, timeout_s: float, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The body of ``GET url`` (status 200), within ``timeout_s`` for the whole request."""
    parts = checked_url(url, example="the vLLM server's base URL")
    deadline = time.monotonic() + timeout_s

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no complete answer within {timeout_s:g} s")
        return remaining

    host = parts.hostname or ""
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            host, parts.port, timeout=left(), context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(host, parts.port, timeout=left())
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        conn.request("GET", target, headers={"Accept": "*/*", "User-Agent": "llmpod"})
        response = conn.getresponse()
        if response.status != 200:
            raise HttpStatusError(
                url, response.status, response.reason, response.getheader("Location")
            )
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            raise _broken(url, f"a body of {int(length)} bytes (at most {max_bytes} are read)")
        chunks: list[bytes] = []
        total = 0
        while True:
            if conn.sock is not None:
                conn.sock.settimeout(left())
            # read1: what one receive brings, so the deadline is checked between bytes
            # that trickle in (read(n) would wait for all n, a timeout per receive).
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise _broken(url, f"a body larger than {max_bytes} bytes")
            chunks.append(chunk)
        if response.length:  # bytes a Content-Length promised that never came
            raise _broken(url, f"a body cut short ({total} of {total + response.length} bytes)")
        return b"".join(chunks)
    except LlmpodError:
        raise
    except TimeoutError as exc:
        raise _unreachable(url, exc, timeout_s) from None
    except http.client.IncompleteRead as exc:
        # http.client reports a bad chunk header the same way as a short body.
        got = len(exc.partial)
        raise _broken(url, f"a body cut short or badly chunked ({got} bytes read)") from None
    except http.client.LineTooLong as exc:
        raise _broken(url, f"an over-long line ({shorten(str(exc), 80)})") from None
    except http.client.HTTPException as exc:
        # BadStatusLine, more than 100 headers, broken chunked encoding, ...
        raise _broken(
            url, f"a malformed answer ({type(exc).__name__}: {shorten(str(exc), 80)})"
        ) from None
    except (ConnectionError, ssl.SSLError) as exc:
        raise _unreachable(url, exc, timeout_s) from None
    except OSError as exc:
        raise _unreachable(url, exc.strerror or exc, timeout_s) from None
    except ValueError as exc:  # e.g. a chunk size that is not hexadecimal
        raise _broken(url, f"a malformed answer ({shorten(str(exc), 80)})") from None
    finally:
        conn.close()
