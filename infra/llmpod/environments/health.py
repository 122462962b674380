"""`--require-healthy URL`: the source environment must answer 200 before promoting.

Promoting from a staging deployment that is down would carry an untested (or
known-broken) spec into production; a single GET is a cheap guard. Anything
but HTTP 200 within the timeout — another status, a refused connection, DNS
failure, a slow server — refuses the promotion.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlparse

from llmpod.errors import LlmpodError


def check_healthy(url: str, timeout_s: float = 5.0) -> None:
    if urlparse(url).scheme not in ("http", "https"):
        raise LlmpodError(
            code="health_url_invalid",
            message=f"--require-healthy {url!r} is not an http:// or https:// URL.",
            suggestions=[
                "pass the source's health endpoint, e.g. https://llama.staging.example.com/health"
            ],
        )
    why: str
    try:
        # Only the URL the user passed is fetched; the scheme is checked above.
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            if resp.status == 200:
                return
            why = f"answered HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        why = f"answered HTTP {exc.code}"
    except TimeoutError:
        why = f"did not answer within {timeout_s:g} s"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        why = (
            f"did not answer within {timeout_s:g} s"
            if isinstance(reason, TimeoutError)
            else f"could not be reached ({reason})"
        )
    raise LlmpodError(
        code="source_unhealthy",
        message=f"Refusing to promote: the source health check {url} {why}; it must answer "
        f"HTTP 200. Nothing was written.",
        suggestions=[
            "fix the source deployment and retry",
            "raise --health-timeout if the endpoint is slow but healthy",
        ],
    )
