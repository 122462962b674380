"""Saved scrapes, so a diagnosis can be reproduced, shared and tested.

Two formats (documented in ``llmpod diagnose --help``):

* **JSON lines** (what ``--save`` writes): one object per line,
  ``{"timestamp": <Unix seconds>, "url": "<metrics URL>", "text": "<exposition>"}``;
  gzip-compressed when the name ends in ``.gz`` (long recordings kept small).
* **a directory of ``.prom`` files**, one scrape each, named by the Unix time it
  was taken: ``1718000000.prom``, ``1718000005.5.prom`` … (e.g. from
  ``curl -s URL/metrics > "$(date +%s).prom"`` in a loop). A single such file
  may also be given directly.
* **a file of Prometheus text given directly**, whatever its name (e.g. from
  ``curl -s URL/metrics > metrics.prom``): one scrape, taken at the time in its
  name when that is a Unix time, else at the file's modification time (which
  ``curl`` sets when it writes). One scrape gives totals since the server
  started and the state at that instant (see ``single.py``).

Scrapes from several arguments are merged and sorted by timestamp.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from llmpod.diagnose.scrape import RawScrape
from llmpod.errors import LlmpodError

_FORMAT_HINT = (
    'a JSON lines file written by --save ({"timestamp": …, "url": …, '
    '"text": …} per line), or a directory of <unix-seconds>.prom files'
)


def _bad(path: Path, problem: str) -> LlmpodError:
    return LlmpodError(
        code="bad_scrape_file", message=f"{path}: {problem}.", suggestions=[f"give {_FORMAT_HINT}"]
    )


def _timestamp_from_name(path: Path) -> float:
    try:
        value = float(path.name.removesuffix(".prom"))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _bad(
            path, "a .prom file must be named by the Unix time it was scraped, e.g. 1718000000.prom"
        )
    return value


def _read_prom(path: Path) -> RawScrape:
    return RawScrape(
        timestamp=_timestamp_from_name(path),
        text=_read_text(path),
        origin=str(path),
    )


def _read_given_file(path: Path) -> list[RawScrape]:
    """A file named on the command line: JSON lines, or one scrape of Prometheus text."""
    text = _read_text(path)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if path.suffix != ".prom" and first.startswith("{"):
        return _read_jsonl(path, text)
    try:
        when = _timestamp_from_name(path)
    except LlmpodError:
        when = path.stat().st_mtime
    return [RawScrape(timestamp=when, text=text, origin=str(path))]


#: An hour of 1 s scrapes of a busy vLLM is ~3600 × 50 KiB, well below this.
#: The cap holds for the inflated text too, so a small .gz cannot inflate into gigabytes.
MAX_RECORDING_BYTES = 256 << 20


def _read_text(path: Path) -> str:
    """The file's text, from a regular file only (a FIFO would block forever), read to at
    most MAX_RECORDING_BYTES (after inflating a .gz)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise _bad(path, "is not a regular file (a pipe, device or directory)")
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            data = handle.read(MAX_RECORDING_BYTES + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        if path.suffix == ".gz" and not isinstance(exc, FileNotFoundError | PermissionError):
            raise _bad(path, f"is not gzip data ({exc})") from None
        raise _bad(path, f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if len(data) > MAX_RECORDING_BYTES:
        raise _bad(
            path,
            f"holds more than {MAX_RECORDING_BYTES >> 20} MiB of text"
            + (" once inflated" if path.suffix == ".gz" else ""),
        )
    return data.decode("utf-8", errors="replace")


def _read_jsonl(path: Path, text: str) -> list[RawScrape]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _bad(path, f"line {number} is not JSON ({exc.msg})") from None
        except RecursionError:
            raise _bad(path, f"line {number} is JSON nested too deeply") from None
        except ValueError as exc:  # e.g. an integer of more digits than Python converts
            raise _bad(path, f"line {number} is not usable JSON ({str(exc)[:80]})") from None
        if not isinstance(row, dict):
            raise _bad(path, f"line {number} is not a JSON object")
        ts, body = row.get("timestamp"), row.get("text")
        if not isinstance(ts, int | float) or isinstance(ts, bool) or not isinstance(body, str):
            raise _bad(path, f"line {number} needs a numeric 'timestamp' and a string 'text'")
        if not math.isfinite(ts):  # json reads NaN and Infinity ("2 scrapes over inf s")
            raise _bad(path, f"line {number} has timestamp {ts}, not a Unix time")
        out.append(RawScrape(float(ts), body, f"{path}:{number}"))
    return out


def load(paths: Iterable[str | Path]) -> list[RawScrape]:
    scrapes: list[RawScrape] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(path.glob("*.prom"))
            if not files:
                raise _bad(path, "the directory holds no .prom files")
            scrapes += [_read_prom(f) for f in files]
        elif path.is_file():
            scrapes += _read_given_file(path)
        elif path.exists():
            raise _bad(path, "is not a regular file (a pipe or device)")
        else:
            raise _bad(path, "no such file or directory")
    if not scrapes:
        raise LlmpodError(
            code="bad_scrape_file",
            message="the --from-file input holds no scrapes.",
            suggestions=[f"give {_FORMAT_HINT}"],
        )
    return sorted(scrapes, key=lambda s: s.timestamp)


def dumps(scrapes: Iterable[RawScrape]) -> str:
    return "".join(
        json.dumps({"timestamp": s.timestamp, "url": s.origin, "text": s.text}, sort_keys=True)
        + "\n"
        for s in scrapes
    )


def save(path: str | Path, scrapes: Iterable[RawScrape]) -> None:
    """Write atomically: an interrupted run never leaves half a recording."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(dumps(scrapes))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
