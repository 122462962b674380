"""Scrape vLLM's /metrics on a fixed interval into ``llmpod diagnose --save`` JSON lines.

Stdlib only. Format (infra/llmpod/diagnose/recording.py): one object per line,
``{"timestamp": <Unix seconds>, "url": "<metrics URL>", "text": "<exposition>"}``.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, timeout: float = 5.0) -> str:
    with _NO_PROXY.open(url, timeout=timeout) as resp:
        return resp.read().decode("utf-8", errors="replace")


class Recorder:
    """A daemon thread; scrapes start on ``start()`` and end on ``stop()``."""

    def __init__(self, url: str, interval_s: float) -> None:
        self.url, self.interval_s = url, interval_s
        self.rows: list[dict] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            stamp = time.time()
            try:
                self.rows.append(
                    {"timestamp": round(stamp, 3), "url": self.url, "text": fetch(self.url)}
                )
            except OSError:
                self.failures += 1
            next_at += self.interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> Recorder:
        self._thread.start()
        return self

    def stop(self) -> list[dict]:
        self._stop.set()
        self._thread.join(10)
        return self.rows

    def write(self, path: str) -> None:
        with open(path, "w") as handle:
            for row in self.rows:
                handle.write(json.dumps(row, sort_keys=True) + "\n")
