"""The one way llmpod reads a stack file's YAML, with limits checked before parsing.

Every command that reads a stack file (render, preflight, diagnose's spec
baseline through ``read_stack_config``; promote and diff through the
round-trip reader in ``environments/stack_yaml``) goes through
``load_yaml``. Stack files are small, hand-written documents; anything that
only an attacker or a broken generator writes is refused here, before ruamel
builds objects, with the line and the field:

* more than ``MAX_BYTES`` bytes, or bytes that are not UTF-8;
* nesting deeper than ``MAX_DEPTH`` (ruamel's composer and every recursive
  walk after it would hit Python's recursion limit far below 500 levels);
* aliases that expand to more than ``MAX_NODES`` values ("billion laughs":
  ruamel shares the anchored object, but every walk over it, from
  ``plain()`` to pydantic, visits each expansion; promote and diff spent
  40 s and 1.2 GB on one 300-byte file) and aliases to an anchor that is
  still open (a recursive structure, which no walk terminates on);
* integers longer than ``MAX_INT_DIGITS`` (CPython 3.11 raises ValueError
  past 4,300 digits while ruamel constructs them) and numbers that are not
  finite or larger than ``MAX_MAGNITUDE`` (``.inf``, ``.nan``, ``1e308``:
  sizes and budgets multiplied later overflow to inf and crash ``int()``);
* mapping keys that are not strings (``1: x``, ``? [a]``), explicit tags other
  than YAML's core ones, and duplicate keys (ruamel refuses those itself).

The checks run on ruamel's event stream, which its parser produces without
recursion, so the check itself cannot be the thing that blows up.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmpod.errors import LlmpodError, shorten

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000
MAX_INT_DIGITS = 64
MAX_MAGNITUDE = 1e15
_CORE_TAG = "tag:yaml.org,2002:"
#: Explicit tags a stack file may carry (``!!str 1.0``); ruamel's round-trip loader
#: would otherwise keep any tag, python/object included, as a tagged value.
_ALLOWED_TAGS = {_CORE_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_SPECIAL_FLOAT = re.compile(r"^[-+]?\.(inf|nan)$", re.IGNORECASE)


def _int_value(text: str) -> int:
    """A YAML int's value (decimal, 0x, 0o, 0b; underscores allowed); 0 if unparsable."""
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    base = {"0x": 16, "0o": 8, "0b": 2}.get(digits[:2].lower())
    try:
        return sign * (int(digits[2:], base) if base else int(digits, 10))
    except ValueError:
        return 0  # a form ruamel reads differently; its own constructor decides


def yaml_error(
    path: Path | str, line: int | None, where: str, problem: str, fix: str
) -> LlmpodError:
    at = f" line {line}" if line is not None else ""
    field_part = f" ({where})" if where else ""
    return LlmpodError(
        code="stack_yaml_invalid",
        message=f"{path}{at}{field_part}: {problem}. Nothing was written.",
        suggestions=[fix],
    )


def yaml_syntax_error(path: Path | str, exc: Exception, *, note: str = "") -> LlmpodError:
    """A ruamel YAMLError as one paragraph with its line and column."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).split("\n", 1)[0]
    context = getattr(exc, "context", None)
    if "duplicate key" in str(problem):
        fix = "remove or rename one of the repeated keys (each key may appear once per mapping)"
    else:
        fix = "fix the YAML syntax (indentation, quotes, colons)"
    text = f"{context}: {problem}" if context and "duplicate" in str(problem) else str(problem)
    return LlmpodError(
        code="stack_yaml_invalid",
        message=f"{path} is not valid YAML{where}: {shorten(text, 200, quote=False)}.",
        suggestions=[fix + note],
    )


def _too_big(path: Path | str, size: int) -> LlmpodError:
    return yaml_error(
        path,
        None,
        "",
        f"the file is {size:,} bytes; stack files are limited to {MAX_BYTES:,} bytes",
        "keep the stack file to its services' settings (model weights, configs "
        "and data belong elsewhere)",
    )


def decode_utf8(raw: bytes, path: Path | str) -> str:
    if len(raw) > MAX_BYTES:
        raise _too_big(path, len(raw))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise yaml_error(
            path,
            line,
            "",
            f"byte {exc.start} ({raw[exc.start : exc.start + 1]!r}) is not UTF-8 ({exc.reason})",
            "save the file as UTF-8 text",
        ) from None


def read_limited(path: Path) -> bytes:
    """A file's bytes, reading at most one byte past the limit (a 10 GB file is not read)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:  # say how big it really is, without reading it
                raise _too_big(path, max(os.fstat(fh.fileno()).st_size, len(raw)))
            return raw
    except OSError as exc:
        raise LlmpodError(
            code="stack_yaml_unreadable",
            message=f"cannot read {path}: {exc.strerror or exc}.",
            suggestions=["check the path and its permissions"],
        ) from None


@dataclass
class _Frame:
    kind: str  # "map" or "seq"
    anchor: str | None
    line: int
    key: str | None = None
    index: int = 0
    expect_key: bool = True
    count: int = 1  # values in this collection once aliases are expanded
    height: int = 1
    path: list[str] = field(default_factory=list)


class _Checker:
    """Walks ruamel's events once, enforcing the limits in the module docstring."""

    def __init__(self, path: Path | str) -> None:
        from ruamel.yaml.resolver import VersionedResolver

        self.path = path
        self.resolver = VersionedResolver()
        self.frames: list[_Frame] = []
        self.anchors: dict[str, tuple[int, int]] = {}  # closed anchor → (count, height)
        self.open_anchors: set[str] = set()
        self.expanded = 0

    def where(self) -> str:
        parts: list[str] = []
        for f in self.frames:
            if f.kind == "map" and f.key is not None and not f.expect_key:
                parts.append(("." if parts else "") + shorten(f.key, 40, quote=False))
            elif f.kind == "seq":
                parts.append(f"[{f.index}]")
        text = "".join(parts)
        return text if len(text) <= 120 else text[:60] + "…" + text[-59:]

    def fail(self, line: int, problem: str, fix: str) -> LlmpodError:
        return yaml_error(self.path, line, self.where(), problem, fix)

    def _tag(self, event: Any) -> str:
        from ruamel.yaml.nodes import ScalarNode

        if event.tag is not None:
            return str(event.tag)
        if event.style is None and event.implicit[0]:
            return str(self.resolver.resolve(ScalarNode, event.value, event.implicit))
        return _CORE_TAG + "str"

    def _grow(self, count: int, height: int, line: int) -> None:
        self.expanded += count
        if self.expanded > MAX_NODES:
            raise self.fail(
                line,
                f"the document expands to more than {MAX_NODES:,} values "
                f"through its aliases (an alias bomb, 'billion laughs')",
                "write the values out instead of nesting aliases (*name) of aliases",
            )
        if len(self.frames) + height > MAX_DEPTH:
            raise self.fail(
                line,
                f"values are nested more than {MAX_DEPTH} levels deep",
                "flatten the structure; stack files need a handful of levels",
            )
        if self.frames:
            parent = self.frames[-1]
            parent.count += count
            parent.height = max(parent.height, height + 1)

    def _check_tag(self, event: Any, line: int) -> None:
        if event.tag is not None and str(event.tag) not in _ALLOWED_TAGS:
            raise self.fail(
                line,
                f"explicit YAML tag {shorten(str(event.tag), 40)} is not used in stack files",
                "remove the tag (the text after '!')",
            )

    def _check_number(self, tag: str, value: str, line: int) -> None:
        if tag.endswith(":int"):
            digits = len(value.lstrip("+-").replace("_", ""))
            if digits > MAX_INT_DIGITS:
                raise self.fail(
                    line,
                    f"an integer with {digits:,} digits ({shorten(value, 30, quote=False)})",
                    f"use a number below {MAX_MAGNITUDE:.0e}",
                )
            number: float = float(_int_value(value))
        elif tag.endswith(":float"):
            if _SPECIAL_FLOAT.fullmatch(value):
                raise self.fail(
                    line,
                    f"{value} is not a finite number",
                    "write a finite number (or leave the key out for its default)",
                )
            number = float(value.replace("_", ""))
        else:
            return
        if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
            raise self.fail(
                line,
                f"{shorten(value, 30, quote=False)} is too large (numbers "
                f"in a stack file are at most {MAX_MAGNITUDE:.0e})",
                "use a realistic value; sizes are in GiB, rates per second",
            )

    def _key(self, event: Any, line: int) -> None:
        from ruamel.yaml.events import ScalarEvent

        frame = self.frames[-1]
        if not isinstance(event, ScalarEvent):
            raise self.fail(
                line,
                "a mapping key is a list, mapping or alias; keys must be plain strings",
                "use a string key such as 'name:'",
            )
        tag = self._tag(event)
        if not tag.endswith((":str", ":merge")):  # "<<: *base" merges are ordinary YAML
            raise self.fail(
                line,
                f"mapping key {shorten(event.value, 40)} is read as "
                f"{tag.rsplit(':', 1)[-1]}, not a string",
                "quote the key ('1': ...) or use a field name",
            )
        frame.key = event.value
        frame.expect_key = False

    def _value_done(self) -> None:
        if not self.frames:
            return
        frame = self.frames[-1]
        if frame.kind == "map":
            frame.expect_key = True
        else:
            frame.index += 1

    def event(self, event: Any) -> None:
        from ruamel.yaml import events as ev

        line = (event.start_mark.line + 1) if event.start_mark else 0
        is_node = isinstance(event, ev.ScalarEvent | ev.AliasEvent | ev.CollectionStartEvent)
        if is_node and self.frames and self.frames[-1].kind == "map" and self.frames[-1].expect_key:
            self._grow(1, 1, line)
            self._key(event, line)
            return
        if isinstance(event, ev.ScalarEvent):
            self._check_tag(event, line)
            self._check_number(self._tag(event), event.value, line)
            self._grow(1, 1, line)
            self._remember(event.anchor, 1, 1)
            self._value_done()
        elif isinstance(event, ev.AliasEvent):
            name = str(event.anchor)
            if name in self.open_anchors:
                raise self.fail(
                    line,
                    f"alias *{shorten(name, 30, quote=False)} refers to "
                    f"a value that contains it (a recursive structure)",
                    "write the value out instead of referring to itself",
                )
            if name not in self.anchors:
                raise self.fail(
                    line,
                    f"alias *{shorten(name, 30, quote=False)} has no "
                    f"anchor &{shorten(name, 30, quote=False)} before it",
                    "define the anchor before using it, or write the value out",
                )
            count, height = self.anchors[name]
            self._grow(count, height, line)
            self._value_done()
        elif isinstance(event, ev.CollectionStartEvent):
            self._check_tag(event, line)
            if len(self.frames) + 1 > MAX_DEPTH:
                raise self.fail(
                    line,
                    f"values are nested more than {MAX_DEPTH} levels deep",
                    "flatten the structure; stack files need a handful of levels",
                )
            self.expanded += 1
            kind = "map" if isinstance(event, ev.MappingStartEvent) else "seq"
            if event.anchor is not None:
                self.open_anchors.add(str(event.anchor))
            self.frames.append(_Frame(kind=kind, anchor=event.anchor, line=line))
        elif isinstance(event, ev.CollectionEndEvent):
            frame = self.frames.pop()
            if frame.anchor is not None:
                self.open_anchors.discard(str(frame.anchor))
                self.anchors[str(frame.anchor)] = (frame.count, frame.height)
            if self.frames:
                parent = self.frames[-1]
                parent.count += frame.count
                parent.height = max(parent.height, frame.height + 1)
            self._value_done()
        elif isinstance(event, ev.DocumentStartEvent) and self.anchors:
            self.anchors.clear()  # anchors do not cross documents

    def _remember(self, anchor: Any, count: int, height: int) -> None:
        if anchor is not None:
            self.anchors[str(anchor)] = (count, height)


def check_limits(text: str, path: Path | str) -> None:
    """Raise LlmpodError if ``text`` breaks a limit; YAML syntax errors pass through."""
    from ruamel.yaml import YAML

    checker = _Checker(path)
    for event in YAML(typ="safe", pure=True).parse(text):
        checker.event(event)


def load_yaml(
    raw: bytes, path: Path | str, *, round_trip: bool = False, yaml: Any = None, note: str = ""
) -> Any:
    """Decode, check and load one YAML document; every failure is an LlmpodError.

    ``round_trip`` keeps comments and key order (promote writes the file back);
    ``yaml`` is a configured ``ruamel.yaml.YAML`` to load with (round trip only).
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    text = decode_utf8(raw, path)
    try:
        check_limits(text, path)
        loader = yaml if yaml is not None else YAML(typ="rt" if round_trip else "safe")
        return loader.load(text)
    except YAMLError as exc:
        raise yaml_syntax_error(path, exc, note=note) from None
