"""Fetch a vLLM server's ``/metrics`` repeatedly over a window (the only I/O in diagnose).

Failures a user can cause (nothing listening, a server that is not vLLM, a
typo in the URL) become ``LlmpodError`` with the URL and what to check. The
first scrape is validated before the window starts, so a wrong URL fails in
seconds instead of after a minute of waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlunsplit

from llmpod.errors import LlmpodError
from llmpod.http_get import HttpStatusError, checked_url, get, redacted


@dataclass(frozen=True)
class RawScrape:
    """Exposition text as fetched, and when (Unix seconds)."""

    timestamp: float
    text: str
    origin: str


def server_url(url: str, *, example: str) -> SplitResult:
    """``url`` split, once it is known to be an http(s) address with a host and port."""
    return checked_url(url, example=example)


def metrics_url(url: str) -> str:
    """``http://host:port`` or ``.../metrics`` → the metrics URL."""
    parts = server_url(url, example="diagnose appends /metrics")
    path = parts.path.rstrip("/")
    if not path.endswith("/metrics"):
        path = f"{path}/metrics"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def fetch(url: str, timeout_s: float = 10.0) -> str:
    """The exposition text at ``url``, within ``timeout_s`` for the whole request."""
    try:
        body = get(url, timeout_s=timeout_s)
    except HttpStatusError as exc:
        if 300 <= exc.status < 400:
            raise
        raise LlmpodError(
            code="not_vllm" if exc.status == 404 else "metrics_http_error",
            message=(
                f"{exc.message.rstrip('.')}. A vLLM OpenAI server serves Prometheus metrics "
                f"at /metrics on its API port."
            ),
            suggestions=[
                "check the host and port are the vLLM server's (`vllm serve --port`)",
                "a gateway in front of vLLM may not forward /metrics",
            ],
        ) from None
    return body.decode("utf-8", errors="replace")


def scrape_count(window_s: float, interval_s: float) -> int:
    """Scrapes at t = 0, interval, … ≤ window (0.3 s / 0.1 s is 4, despite float division)."""
    return math.floor(window_s / interval_s + 1e-9) + 1


def collect(
    url: str,
    window_s: float,
    interval_s: float,
    *,
    validate: Callable[[RawScrape], None] | None = None,
    fetch_text: Callable[[str], str] = fetch,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list[RawScrape]:
    """Scrape at t = 0, interval, 2·interval … up to ``window_s`` (inclusive).

    Bounded: ``floor(window / interval) + 1`` fetches, each with its own timeout.
    """
    target = metrics_url(url)
    count = scrape_count(window_s, interval_s)
    start = clock()
    scrapes: list[RawScrape] = []
    for i in range(count):
        delay = start + i * interval_s - clock()
        if delay > 0:
            sleep(delay)
        # origin is shown in reports and saved in recordings: never with a password.
        scrape = RawScrape(timestamp=clock(), text=fetch_text(target), origin=redacted(target))
        if i == 0 and validate is not None:
            validate(scrape)
        scrapes.append(scrape)
    return scrapes
