"""What a running vLLM reports: fetched from its URL, or read from a recording.

A recording is anything ``llmpod diagnose --from-file`` reads, and one scrape is
enough (the cache config does not change while a server runs; the latest is
used). A directory may also carry what ``/metrics`` cannot say:

* ``models.json``: the body of ``GET /v1/models`` (served name, ``max_model_len``);
* ``status.json``: the body of the entrypoint's ``GET /status`` (launched arguments).

Its scrape may be a ``metrics.prom`` (e.g. ``curl -s URL/metrics > metrics.prom``;
it is the one used when the directory holds other .prom files too) as well as
diagnose's ``<unix-seconds>.prom`` files or a ``--save`` JSON lines file. When the
recording is a file, ``models.json`` and ``status.json`` beside it are read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlunsplit

from llmpod.diagnose import recording
from llmpod.diagnose.scrape import fetch, server_url
from llmpod.errors import LlmpodError
from llmpod.http_get import HttpStatusError, get, redacted

METRICS_FILE = "metrics.prom"
MODELS_FILE = "models.json"
STATUS_FILE = "status.json"
#: /v1/models and /status are a few KiB.
MAX_JSON_BYTES = 4 << 20


@dataclass(frozen=True)
class Running:
    source: str
    metrics_text: str
    models: Any | None
    status: dict[str, Any] | None


def base_url(url: str) -> str:
    """``http://host:port[/prefix]`` with a trailing ``/metrics`` or ``/v1/models`` dropped."""
    parts = server_url(url, example="verify reads /metrics and /v1/models")
    path = parts.path.rstrip("/")
    for tail in ("/metrics", "/v1/models", "/status"):
        path = path.removesuffix(tail)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _fetch_json(url: str, what: str, timeout_s: float) -> Any:
    try:
        body = get(url, timeout_s=timeout_s, max_bytes=MAX_JSON_BYTES)
    except HttpStatusError as exc:
        raise LlmpodError(
            code="http_error",
            message=f"{exc.message.rstrip('.')}; {what} was expected there.",
            suggestions=exc.suggestions,
        ) from None
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else f"{body[:80]!r}"
        raise LlmpodError(
            code="not_json",
            message=f"{redacted(url)} did not answer usable JSON ({why}); "
            f"{what} was expected there.",
            suggestions=["point at the vLLM server's base URL, not a proxy or UI"],
        ) from None


def from_url(url: str, status_url: str | None, timeout_s: float) -> Running:
    base = base_url(url)
    metrics = fetch(f"{base}/metrics", timeout_s=timeout_s)
    models = _fetch_json(f"{base}/v1/models", "vLLM's /v1/models", timeout_s)
    status = None
    if status_url is not None:
        status = _status(
            _fetch_json(
                f"{base_url(status_url)}/status", "the llmpod entrypoint's /status", timeout_s
            ),
            status_url,
        )
    return Running(base, metrics, models, status)


def _status(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or "phase" not in raw:
        raise LlmpodError(
            code="not_llmpod_status",
            message=f"{where} is not the llmpod entrypoint's /status (no 'phase' in it).",
            suggestions=["the entrypoint's status port is LLMPOD_STATUS_PORT (8081 by default)"],
        )
    return raw


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LlmpodError(
            code="bad_scrape_file",
            message=f"{path}: not readable JSON ({str(exc)[:120]}).",
            suggestions=[
                f"{MODELS_FILE} holds the body of GET /v1/models, {STATUS_FILE} that"
                " of the entrypoint's GET /status"
            ],
        ) from None


def _latest_scrape(path: Path) -> str:
    """The newest scrape of a recording (any diagnose format, or one metrics.prom)."""
    if not path.is_dir():
        if path.is_file() and path.suffix == ".prom":
            return path.read_text(errors="replace")
        return recording.load([path])[-1].text
    if (path / METRICS_FILE).is_file():
        return (path / METRICS_FILE).read_text(errors="replace")
    proms = sorted(path.glob("*.prom"))
    loose = [p for p in proms if not _is_timestamp(p.stem)]
    jsonl = sorted([*path.glob("*.jsonl"), *path.glob("*.jsonl.gz")])
    if loose:
        if len(loose) > 1 or len(proms) > len(loose) or jsonl:
            names = [p.name for p in [*proms, *jsonl]][:5]
            raise LlmpodError(
                code="bad_scrape_file",
                message=f"{path}: {', '.join(names)} — a .prom file not named by a Unix time "
                "must be the directory's only scrape, or which one is the server now?",
                suggestions=["keep one metrics.prom, or name scrapes <unix-seconds>.prom"],
            )
        return loose[0].read_text(errors="replace")
    if not proms and not jsonl:
        raise LlmpodError(
            code="bad_scrape_file",
            message=f"{path}: the directory holds no scrape (.prom or .jsonl file).",
            suggestions=["save one with `curl -s URL/metrics > metrics.prom`, or diagnose --save"],
        )
    sources: list[Path] = ([path] if proms else []) + jsonl
    return recording.load(sources)[-1].text


def _is_timestamp(stem: str) -> bool:
    try:
        float(stem)
    except ValueError:
        return False
    return True


def from_recording(path_text: str) -> Running:
    path = Path(path_text)
    text = _latest_scrape(path)
    models = status = None
    where = path if path.is_dir() else path.parent
    if (where / MODELS_FILE).is_file():
        models = _read_json(where / MODELS_FILE)
    if (where / STATUS_FILE).is_file():
        status = _status(_read_json(where / STATUS_FILE), str(where / STATUS_FILE))
    return Running(str(path), text, models, status)
