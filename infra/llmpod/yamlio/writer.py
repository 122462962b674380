"""Deterministic YAML: sorted keys, block style, multi-line strings as literal blocks."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString


def _literal_ok(text: str) -> bool:
    """A literal block holds only printable text on plain "\n" line breaks, without
    trailing spaces; anything else (control characters, \r, \u2028, a leading
    space or blank line that would change the block's indentation) keeps the
    double-quoted form, whose escapes can hold any string."""
    lines = text.split("\n")
    return all(
        line.replace("\t", " ").isprintable() and line == line.rstrip() for line in lines
    ) and not text.startswith((" ", "\n"))


def _prepare(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _prepare(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_prepare(v) for v in value]
    if isinstance(value, str) and "\n" in value and _literal_ok(value):
        # Scripts and plan.json stay readable in review.
        return LiteralScalarString(value)
    return value


def _yaml() -> YAML:
    y = YAML(typ="rt", pure=True)
    y.default_flow_style = False
    y.width = 4096  # never fold long strings (args, queries) across lines
    y.indent(mapping=2, sequence=2, offset=0)
    y.representer.ignore_aliases = lambda _data: True
    return y


def dump_yaml(obj: dict[str, Any]) -> str:
    buf = io.StringIO()
    _yaml().dump(_prepare(obj), buf)
    return buf.getvalue()
