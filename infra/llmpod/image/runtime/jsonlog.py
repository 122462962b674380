"""Structured phase logs: one JSON object per line on stdout.

Stdlib only (copied into the image). One line per event, keys sorted, so log
pipelines (CloudWatch, Loki) can filter on ``event`` without parsing prose, and
the lines stay greppable among vLLM's own (unstructured) output on the same stream.

Events: ``load``, ``health``, ``warmup``, ``ready``, ``drain``, ``exit``,
``error``, ``signal``, ``status_server``, ``plan_check`` (what vLLM reports against
the plan, once ready: ``ok``, ``differs``, ``checks``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

_lock = threading.Lock()


def format_event(event: str, fields: dict[str, Any], *, now: float) -> str:
    record = {"ts": round(now, 3), "logger": "llmpod.entrypoint", "event": event, **fields}
    return json.dumps(record, sort_keys=True, default=str)


def log_event(event: str, stream: TextIO | None = None, **fields: Any) -> None:
    line = format_event(event, fields, now=time.time())
    out = stream if stream is not None else sys.stdout
    with _lock:  # warmup threads log concurrently; keep lines whole
        out.write(line + "\n")
        out.flush()
