"""A minimal HTTP client for the local vLLM server (health, models, tokenize, metrics).

Stdlib only (copied into the image).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

# An HTTP(S)_PROXY in the pod environment (common in corporate clusters) would
# otherwise route our loopback calls to the proxy; vLLM is always local.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class VllmUnreachable(ConnectionError):
    """No HTTP answer at all: connection refused, reset or timed out."""


@dataclass(frozen=True)
class HttpResult:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def request(url: str, payload: dict[str, Any] | None = None, *, timeout: float) -> HttpResult:
    """GET (no payload) or POST JSON; HTTP errors are results, not exceptions."""
    data = None
    headers = {"Accept": "application/json"}
    if payload is not None:
        data = json.dumps(payload).encode("utf-8")
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return HttpResult(status=resp.status, body=resp.read())
    except urllib.error.HTTPError as exc:
        return HttpResult(status=exc.code, body=exc.read() or b"")
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise VllmUnreachable(f"{url}: {reason}") from None


_INFLIGHT_METRICS = ("vllm:num_requests_running", "vllm:num_requests_waiting")
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(?P<value>\S+)")


def inflight_requests(metrics_text: str) -> int | None:
    """Running + waiting requests from vLLM's Prometheus text, summed over label sets.

    None when neither gauge is present (an unexpected vLLM build): the caller must
    not mistake "unknown" for "idle". Gauge names as of vLLM 0.32 (V1 engine).
    """
    total = 0.0
    seen = False
    for line in metrics_text.splitlines():
        if line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match and match["name"] in _INFLIGHT_METRICS:
            seen = True
            try:
                total += float(match["value"])
            except ValueError:
                continue
    return round(total) if seen else None
